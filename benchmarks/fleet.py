"""Fleet load test: N simulated units on one real Mosquitto, a real `pianocam recorder` into SQLite or PostgreSQL.

Each unit is a real device.publisher.Publisher with its own SQLite journal. While playing (phrases of
5-15 s, pauses of 2-5 s) it sends notes at 10/s, and once a second metrics (QoS 0, retained), its session
summary (retained) and a technique estimate; its status goes out on every connect. Mid-run the broker is
restarted (SIGTERM, down 2 s, persistence on) and a tenth of the units drop off (no goodbye, off 3 s,
back with the same journal, as after a power cut), so reconnect storms and journal replays are part of it.

Afterwards it waits until every unit's journal is empty and the recorder has stored every note, then
compares the notes in the database with the (unit, seq) each unit emitted.
  messages/s     messages the units handed to the broker per second of the run
  broker CPU     Mosquitto's CPU time over the run, % of one core (both broker processes together)
  recorder CPU   the recorder process's CPU time over the run, % of one core
  units' CPU     this process (all N publishers, journals and paho loops) likewise: where the time goes
  lag            seconds from the units' last note until the database held every note
  e2e p50/p95    note ts (unit clock) to the row's commit in the recorder (same machine, same clock); over
                 all notes (the outage's journalled ones too) and over the notes before the restart
  lost / dup     notes emitted but not stored / notes stored more than once; re-sent = deliveries the
                 recorder dropped as already stored (replays after drop-offs and restarts)

Usage: nice -n 10 .venv/bin/python benchmarks/fleet.py [--units 10 50 100] [--seconds 30] [--runs 3]
       [--databases sqlite postgresql]
"""
from __future__ import annotations

import argparse
import logging
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' real-server helpers: Mosquitto, a PostgreSQL cluster

from pianocam.config import load_config  # noqa: E402
from pianocam.transport.journal import Journal  # noqa: E402
from pianocam.transport.publisher import Publisher  # noqa: E402
from pianocam.unit.session import Session  # noqa: E402
from tests.conftest import Mosquitto, free_port, wait_until  # noqa: E402
from tests.recorder.postgres import PostgresCluster  # noqa: E402

TICK = 0.1  # notes at 10/s while playing
BROKER_SETTINGS = "allow_anonymous true\nmax_queued_messages 1000000\n"


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class SimUnit:
    """One unit: a real Publisher and journal, a phrase/pause schedule, the seqs of every note emitted."""

    def __init__(self, name: str, port: int, folder: Path, rng: random.Random):
        self.config = load_config(environ={})
        self.config.unit_id = name
        self.config.mqtt.host, self.config.mqtt.port = "127.0.0.1", port
        self.journal_path = folder / f"{name}.sqlite"
        self.rng = rng
        self.notes: list[int] = []
        self.session = Session()
        self.playing_until = 0.0
        self.paused_until = time.monotonic() + rng.uniform(0, 3)
        self.off_until = 0.0
        self.publisher: Publisher | None = None
        self.power_on()

    def power_on(self) -> None:
        self.publisher = Publisher(self.config, Journal(self.journal_path))
        self.publisher.emit("status", {"room": "fleet"})
        self.publisher.start()

    def power_cut(self, seconds: float) -> None:
        self.publisher.disconnect_quietly()
        self.publisher.journal.close()
        self.off_until = time.monotonic() + seconds

    def tick(self, now: float, i: int) -> None:
        if self.off_until:
            if now < self.off_until:
                return
            self.off_until = 0.0
            self.power_on()
        if now >= self.playing_until and now >= self.paused_until:
            self.playing_until = now + self.rng.uniform(5, 15)
            self.paused_until = self.playing_until + self.rng.uniform(2, 5)
        if now < self.playing_until:
            pitch = 48 + i % 24
            self.notes.append(self.publisher.emit("note", {
                "pitch": pitch, "name": "", "onset": round(i * TICK, 3), "offset": None, "velocity": 72,
                "hand": "right", "finger": 1 + i % 5, "confidence": 0.9, "source": "midi"}))
            self.session.notes += 1
            self.session.last_note_at = time.time()
        if i % 10 == 0:
            self.publisher.emit("metrics", {"fps": 30.0, "frames": i * 3, "queue_depth": self.publisher.pending()})
            self.publisher.emit("session", self.session.summary())
            if now < self.playing_until:
                self.publisher.emit("technique", {"hand": "right", "label": "advanced",
                                                  "probabilities": {"beginner": 0.3, "advanced": 0.7}})


def one_run(n: int, seconds: float, database: str, folder: Path, seed: int) -> dict:
    rng = random.Random(seed)
    broker = Mosquitto(folder, settings=BROKER_SETTINGS, persistence=True).start()
    recorder = subprocess.Popen(
        [sys.executable, "-m", "pianocam.commands.cli", "recorder", "--broker", f"127.0.0.1:{broker.port}",
         "--database", database, "--listen", "off", "--client-id", f"fleet-recorder-{seed}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    log: list[str] = []
    threading.Thread(target=lambda: log.extend(recorder.stderr), daemon=True).start()
    if not wait_until(lambda: any("subscribed" in line for line in log), 30):
        raise RuntimeError("recorder did not subscribe:\n" + "".join(log))
    units = [SimUnit(f"unit-{k:03d}", broker.port, folder, rng) for k in range(n)]
    wait_until(lambda: all(u.publisher.connected for u in units), 30)

    broker_cpu, recorder_cpu0, sim_cpu0 = 0.0, cpu_seconds(recorder.pid), cpu_seconds(os.getpid())
    broker_cpu0 = cpu_seconds(broker.proc.pid)
    restart_at, drop_at = seconds * 0.4, seconds * 0.65
    restarted = dropped = False
    began = time.monotonic()
    calm_until = time.time() + restart_at  # notes before the restart: the steady-state latency
    i = 0
    while (now := time.monotonic()) - began < seconds:
        if not restarted and now - began >= restart_at:
            broker_cpu += cpu_seconds(broker.proc.pid) - broker_cpu0
            broker.stop()  # SIGTERM: Mosquitto saves its persistence file on the way out
            down_until = time.monotonic() + 2.0
            while time.monotonic() < down_until:  # the units keep playing into their journals
                i += 1
                for u in units:
                    u.tick(time.monotonic(), i)
                time.sleep(TICK)
            broker.start()
            broker_cpu0 = cpu_seconds(broker.proc.pid)
            restarted = True
            continue
        if not dropped and now - began >= drop_at:
            for u in rng.sample(units, max(1, n // 10)):
                u.power_cut(3.0)
            dropped = True
        i += 1
        for u in units:
            u.tick(now, i)
        time.sleep(max(0.0, began + i * TICK - time.monotonic()))
    ended = time.monotonic()
    last_note = time.time()
    for u in units:
        if u.off_until:
            u.off_until = 0.0
            u.power_on()
    sent = sum(u.publisher.sent for u in units)
    wait_until(lambda: all(u.publisher.pending() == 0 for u in units), 180)
    emitted = {u.config.unit_id: u.notes for u in units}
    total = sum(len(v) for v in emitted.values())

    from sqlalchemy import func, select

    from pianocam.recorder.schema import Note
    from pianocam.recorder.store import open_engine

    engine = open_engine(database)

    def stored() -> int:
        with engine.connect() as conn:
            return conn.scalar(select(func.count()).select_from(Note))

    wait_until(lambda: stored() >= total, 300, step=0.25)
    lag = time.time() - last_note
    broker_cpu += cpu_seconds(broker.proc.pid) - broker_cpu0
    recorder_cpu = cpu_seconds(recorder.pid) - recorder_cpu0
    sim_cpu = cpu_seconds(os.getpid()) - sim_cpu0
    for u in units:
        u.publisher.stop(timeout=2)
        u.publisher.journal.close()
    recorder.terminate()
    recorder.wait(60)
    broker.stop()
    with engine.connect() as conn:
        rows = conn.execute(select(Note.unit_id, Note.seq, Note.t, Note.received)).all()
    engine.dispose()
    keys = [(r[0], r[1]) for r in rows]
    expected = {(unit, seq) for unit, seqs in emitted.items() for seq in seqs}
    delays = np.array([r[3] - r[2] for r in rows])
    resent = 0
    for line in log:
        if "duplicates dropped" in line:
            resent = int(line.split("stored, ")[1].split()[0])
    run_s = ended - began
    return {"units": n, "notes": total, "msg_s": sent / run_s, "broker_cpu": 100 * broker_cpu / run_s,
            "recorder_cpu": 100 * recorder_cpu / run_s, "sim_cpu": 100 * sim_cpu / run_s, "lag": lag,
            "p50": float(np.percentile(delays, 50)), "p95": float(np.percentile(delays, 95)),
            "calm_p95": float(np.percentile([r[3] - r[2] for r in rows if r[2] < calm_until], 95)),
            "lost": len(expected - set(keys)),
            "dup": len(keys) - len(set(keys)), "extra": len(set(keys) - expected), "resent": resent}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, nargs="+", default=[10, 50, 100])
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each run (default 30)")
    parser.add_argument("--runs", type=int, default=3, help="runs per row; the table shows medians (default 3)")
    parser.add_argument("--databases", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # reconnect warnings from a hundred publishers are the point, not news
    cluster = None
    results = []
    try:
        for db in args.databases:
            for n in args.units:
                runs = []
                for k in range(args.runs):
                    with tempfile.TemporaryDirectory(prefix="pianocam-fleet-") as tmp:
                        folder = Path(tmp)
                        if db == "postgresql":
                            if cluster is None:
                                cluster = PostgresCluster(free_port(), fsync=True).start()
                            url = cluster.new_database()
                        else:
                            url = f"sqlite:///{folder / 'recorder.sqlite'}"
                        r = one_run(n, args.seconds, url, folder, seed=1000 * k + n)
                        runs.append(r)
                        print(f"# {db} N={n} run {k + 1}: {r}", file=sys.stderr, flush=True)
                # Medians of the runs; the losses and duplicates are summed over them, which must stay 0.
                summed = ("notes", "lost", "dup", "extra", "resent")
                merged = {key: (sum(r[key] for r in runs) if key in summed else float(np.median([r[key] for r in runs])))
                          for key in runs[0]}
                merged["db"], merged["units"] = db, n
                results.append(merged)
    finally:
        if cluster is not None:
            cluster.stop()
    print(f"median of {args.runs} runs of {args.seconds:.0f} s (notes, lost, duplicated, re-sent: summed), "
          "one broker restart (2 s down) and a tenth of the units cut off for 3 s; "
          f"Mosquitto {subprocess.run(['mosquitto', '-h'], capture_output=True, text=True).stdout.split()[2]}, "
          f"{os.cpu_count()} CPUs shared")
    print("| database | units | notes | messages/s | broker CPU | recorder CPU | units' CPU | lag s | e2e p50 ms | e2e p95 ms "
          "| p95 before the restart ms | lost | duplicated | re-sent, dropped |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r['db']} | {r['units']} | {r['notes']} | {r['msg_s']:.0f} | {r['broker_cpu']:.0f} % "
              f"| {r['recorder_cpu']:.0f} % | {r['sim_cpu']:.0f} % | {r['lag']:.1f} | {1000 * r['p50']:.0f} "
              f"| {1000 * r['p95']:.0f} "
              f"| {1000 * r['calm_p95']:.0f} | {r['lost']} | {r['dup'] + r['extra']} | {r['resent']} |")
    return 0 if all(r["lost"] == 0 and r["dup"] == 0 and r["extra"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())

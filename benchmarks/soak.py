"""Soak: the daemon on a rendered performance in real time for 5 minutes, its broker stopped and
restarted every 30 s, 100 malformed commands a second, its journal on a 4 MB filesystem that fills.

Counts what the unit played (its own final log line), what a durable subscriber received (after
de-duplication on seq), and what the journal dropped (`queue_dropped`); they must add up, and the
daemon must never exit on its own. Technique estimates are off, so notes are the only journalled
events and every drop is a note. The broker is stopped with SIGTERM (Mosquitto then saves the
subscriber's queued messages; a SIGKILL would lose messages the broker had already acknowledged,
which is the broker's loss, not the unit's).

Needs root (mounts a 4 MB tmpfs) and mosquitto. Usage:
    sudo nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python benchmarks/soak.py [--seconds 300]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from pianocam.commands.broker import free_port

UNIT = "soak"


class Broker:
    """Mosquitto with persistence, so a durable subscriber's queue survives a restart."""

    def __init__(self, folder: Path):
        self.port = free_port()
        self.conf = folder / "mosquitto.conf"
        user = "user root\n" if os.geteuid() == 0 else ""
        self.conf.write_text(f"{user}listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
                             f"persistence_location {folder}/\nlog_dest file {folder}/mosquitto.log\n"
                             "max_queued_messages 100000\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)


class Subscriber:
    """A persistent-session subscriber to the unit's notes, status, metrics and command answers."""

    def __init__(self, port: int):
        self.lock = threading.Lock()
        self.notes: list[dict] = []
        self.answers: set[str] = set()
        self.metrics: list[dict] = []
        self.status: list[dict] = []
        self.metrics_at = 0.0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-subscriber", clean_session=False)
        self.client.reconnect_delay_set(0.2, 1)
        # Not cmd/# itself: the flood's payloads are for the unit to survive, not this subscriber.
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [(f"pianocam/{UNIT}/{kind}", 1) for kind in ("note", "status", "metrics", "cmd/status/response")])
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message):
        try:
            payload = json.loads(message.payload)
        except (ValueError, RecursionError):
            return
        kind = message.topic.split(f"pianocam/{UNIT}/", 1)[-1]
        with self.lock:
            if kind == "note":
                self.notes.append(payload)
            elif kind == "metrics":
                self.metrics.append(payload)
                self.metrics_at = time.monotonic()
            elif kind == "status":
                self.status.append(payload)
            elif kind == "cmd/status/response" and payload.get("ok"):
                self.answers.add(str(payload.get("transaction")))


MALFORMED = [
    lambda: b'{"transaction": ' + b"[" * random.randint(20, 2000) + b"]" * 5 + b"}",
    lambda: os.urandom(random.randint(1, 300)),
    lambda: b'{"pad": "' + b"x" * random.randint(17_000, 40_000) + b'"}',
    lambda: json.dumps({"transaction": "t" * random.randint(200, 5000)}).encode(),
    lambda: json.dumps([1, 2, {"a": None}]).encode(),
    lambda: json.dumps({"fresh": "yes"}).encode(),  # refused by cmd/recalibrate
    lambda: b"",
]


def flood(port: int, stop: threading.Event, sent: list[int], probes: list[str], subscriber: Subscriber) -> None:
    """100 malformed commands a second, and a real cmd/status every 5 s to see the unit still answers
    (counted only when the unit says it is online: while it reconnects nobody listens)."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="soak-flood")
    client.reconnect_delay_set(0.2, 1)
    client.connect_async("127.0.0.1", port)
    client.loop_start()
    tick, next_probe = time.monotonic(), time.monotonic() + 5
    while not stop.is_set():
        tick += 0.01
        time.sleep(max(0.0, tick - time.monotonic()))
        if not client.is_connected():
            continue
        topic = random.choice(["cmd/status", "cmd/recalibrate", "cmd/start_session", "cmd/nope"])
        payload = random.choice(MALFORMED)()
        if topic != "cmd/recalibrate" and payload == json.dumps({"fresh": "yes"}).encode():
            payload = b"[]"
        client.publish(f"pianocam/{UNIT}/{topic}", payload, qos=0)
        sent[0] += 1
        with subscriber.lock:
            online = bool(subscriber.status) and subscriber.status[-1].get("state") == "online"
        if time.monotonic() > next_probe and online:
            next_probe = time.monotonic() + 5
            probes.append(f"probe-{len(probes)}")
            client.publish(f"pianocam/{UNIT}/cmd/status", json.dumps({"transaction": probes[-1]}), qos=1)
    client.loop_stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--restart-every", type=float, default=30.0, help="broker stop+start period (s)")
    parser.add_argument("--down", type=float, default=10.0, help="seconds the broker stays down each time")
    parser.add_argument("--free-kb", type=int, default=560, help="free space left on the 4 MB filesystem")
    args = parser.parse_args()
    if os.geteuid() != 0:
        print("soak: needs root to mount its 4 MB filesystem", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="pianocam-soak-"))
    small = work / "small"
    small.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(small)], check=True)
    try:
        return soak(args, work, small)
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)
        shutil.rmtree(work, ignore_errors=True)


def soak(args, work: Path, small: Path) -> int:
    # Fill the filesystem but for free_kb: the journal starts near full and fills during outages.
    fs = os.statvfs(small)
    with open(small / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, fs.f_bavail * fs.f_frsize - args.free_kb * 1024))
    broker = Broker(work)
    broker.start()
    subscriber = Subscriber(broker.port)
    env = {**os.environ, "PIANOCAM_UNIT_ID": UNIT, "PIANOCAM_MQTT_HOST": "127.0.0.1",
           "PIANOCAM_MQTT_PORT": str(broker.port), "PIANOCAM_SOURCE_KIND": "scene",
           "PIANOCAM_SOURCE_LOOP": "true", "PIANOCAM_SOURCE_SCENE_SECONDS": "60",
           "PIANOCAM_TECHNIQUE_ENABLED": "false", "PIANOCAM_METRICS_INTERVAL": "2",
           "PIANOCAM_JOURNAL_PATH": str(small / "journal.sqlite"),
           "PIANOCAM_CALIBRATION_KEYMAP": str(work / "keymap.json"), "XDG_CACHE_HOME": str(work / "cache")}
    log = open(work / "unit.log", "w+")
    # Render the 60 s scene first, so the soak's clock starts with the performance.
    subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "run", "--seconds", "0.1"],
                   env={**env, "PIANOCAM_MQTT_PORT": "1", "PIANOCAM_JOURNAL_PATH": str(work / "warm.sqlite")},
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    unit = subprocess.Popen([sys.executable, "-m", "pianocam.commands.cli", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)
    stop = threading.Event()
    sent, probes = [0], []
    flooder = threading.Thread(target=flood, args=(broker.port, stop, sent, probes, subscriber), daemon=True)
    flooder.start()
    began = time.monotonic()
    restarts, exited_early, last_start = 0, None, began
    next_restart = began + args.restart_every
    while time.monotonic() - began < args.seconds:
        time.sleep(0.2)
        if unit.poll() is not None:
            exited_early = unit.returncode
            break
        if time.monotonic() >= next_restart and time.monotonic() + args.down < began + args.seconds:
            next_restart += args.restart_every
            broker.stop()
            time.sleep(args.down)
            broker.start()
            restarts += 1
            last_start = time.monotonic()
    stop.set()
    flooder.join(5)
    # Let the backlog drain with the broker up, then stop the unit as systemd would.
    drained = False
    deadline = time.monotonic() + 90
    while exited_early is None and time.monotonic() < deadline:
        with subscriber.lock:
            last = subscriber.metrics[-1] if subscriber.metrics else {}
            fresh = subscriber.metrics_at > last_start + 1  # sent after the unit reconnected
        if fresh and last.get("queue_depth") == 0:
            drained = True
            break
        time.sleep(0.5)
    if exited_early is None:
        unit.send_signal(signal.SIGTERM)
        code = unit.wait(60)
    else:
        code = exited_early
    time.sleep(2)
    subscriber.client.loop_stop()
    broker.stop()
    log.seek(0)
    text = log.read()
    final = re.search(r"stopped after (\d+) frames, (\d+) notes; (\d+) events dropped", text)
    played, dropped = (int(final.group(2)), int(final.group(3))) if final else (None, None)
    with subscriber.lock:
        received = len(subscriber.notes)
        unique = {n["seq"]: n for n in subscriber.notes}
        answered = sum(p in subscriber.answers for p in probes)
        metrics = list(subscriber.metrics)
        statuses = list(subscriber.status)
    duplicates = received - len(unique)
    disk_full = any(m.get("disk_full") for m in metrics) or any("disk full" in s.get("conditions", [])
                                                                   for s in statuses)
    rows = [
        ("soak seconds", f"{args.seconds:.0f}"),
        ("broker restarts (SIGTERM, down s)", f"{restarts} ({args.down:.0f})"),
        ("malformed commands sent", sent[0]),
        ("cmd/status probes answered (sent while online)", f"{answered}/{len(probes)}"),
        ("unit exited during the soak", "no" if exited_early is None else f"yes, code {exited_early}"),
        ("unit exit code after SIGTERM", code),
        ("backlog drained before stop", "yes" if drained else "no"),
        ("disk full reported (status/metrics)", "yes" if disk_full else "no"),
        ("max queue_depth seen", max((m.get("queue_depth", 0) for m in metrics), default=0)),
        ("notes played (unit's count)", played),
        ("notes received (raw)", received),
        ("notes delivered exactly once (after de-dup)", len(unique)),
        ("duplicates received (dropped by de-dup)", duplicates),
        ("notes dropped by the journal (queue_dropped)", dropped),
        ("played - delivered - dropped", None if played is None else played - len(unique) - dropped),
        ("tracebacks in the unit's log", text.count("Traceback")),
    ]
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    ok = exited_early is None and played is not None and played == len(unique) + dropped
    if not ok:
        print("\n--- unit log (tail) ---\n" + text[-3000:], file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Feedback delay: from a note's onset (MIDI replayed at real-time pace) to its `note` message
arriving at a subscriber through a real Mosquitto.

Runs the unit in this process on a rendered scene played in real time with its MIDI, so the
onset instant (source start + onset) and the arrival instant share one monotonic clock.
Prints the delay's median, p95 and max over all notes, for each run.
Usage: .venv/bin/python benchmarks/feedback_delay.py [--runs 3] [--seconds 20] [--cpus 2]
"""
from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.scene import SceneSpec
from pianocam.scene.source import SceneSource, open_configured
from pianocam.unit.assembly import Unit


def start_mosquitto(folder: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = folder / "mosquitto.conf"
    user = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"{user}listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    process = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("mosquitto did not start")


def one_run(spec: SceneSpec, port: int, state: Path) -> list[float]:
    config = load_config(environ={})
    config.unit_id = "delay"
    config.mqtt.host, config.mqtt.port = "127.0.0.1", port
    config.journal.path = str(state / f"journal-{time.monotonic_ns()}.sqlite")
    config.calibration.keymap = str(state / "keymap.json")
    config.source.scene_seed, config.source.scene_keys, config.source.scene_seconds = spec.seed, spec.keys, spec.seconds
    arrivals: list[tuple[float, float]] = []
    lock = threading.Lock()

    def on_message(topic, payload):
        if topic.endswith("/note"):
            with lock:
                arrivals.append((time.monotonic(), payload["onset"]))

    watcher = Watcher("127.0.0.1", port, unit_id="delay", on_message=on_message)
    watcher.start()
    unit = Unit(config, source=open_configured(config.source))
    unit.run(handle_signals=False)
    time.sleep(0.5)
    watcher.stop()
    t0 = unit.source.started_at
    return [arrived - (t0 + onset) for arrived, onset in arrivals]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--cpus", type=int, default=2, help="CPUs the process is pinned to")
    args = parser.parse_args()
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cpus]))
    spec = SceneSpec(seed=7, keys=61, seconds=args.seconds)
    SceneSource(spec)  # render before timing
    print(f"scene seed 7, 61 keys, {args.seconds:g} s played in real time with its MIDI; "
          f"pinned to {args.cpus} CPU(s); Mosquitto on loopback")
    print(f"{'run':>4} {'notes':>6} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    every = []
    with tempfile.TemporaryDirectory() as state:
        mosquitto, port = start_mosquitto(Path(state))
        try:
            for run in range(1, args.runs + 1):
                delays = np.array(one_run(spec, port, Path(state))) * 1000
                every += list(delays)
                print(f"{run:>4} {len(delays):>6} {np.median(delays):>8.1f} {np.percentile(delays, 95):>8.1f} "
                      f"{delays.max():>8.1f}")
        finally:
            mosquitto.terminate()
    every = np.array(every)
    print(f"{'all':>4} {len(every):>6} {np.median(every):>8.1f} {np.percentile(every, 95):>8.1f} {every.max():>8.1f}")


if __name__ == "__main__":
    main()

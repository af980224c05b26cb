"""The recorder's database writes alone: messages per second that Store.record commits, SQLite and PostgreSQL.

Batches of 500 as the transport hands them over: 400 notes from 100 units, and (second row of each
database) the 100 units' session summaries as well, which a unit re-sends every second while playing.
PostgreSQL is a cluster of its own started here (Debian's package, fsync on). Median of --runs runs.
Usage: nice -n 10 .venv/bin/python benchmarks/recorder_store.py [--runs 3] [--batches 20]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests' PostgreSQL cluster helper

from pianocam.recorder.store import Store, open_engine  # noqa: E402
from pianocam.transport.messages import envelope  # noqa: E402
from tests.conftest import free_port  # noqa: E402
from tests.recorder.postgres import PostgresCluster  # noqa: E402

UNITS = 100


def batches(count: int, sessions: bool):
    seq = 0
    for _ in range(count):
        batch = []
        for i in range(400):
            seq += 1
            unit = f"unit-{i % UNITS:03d}"
            batch.append((f"pianocam/{unit}/note", envelope(unit, seq, {"pitch": 48 + i % 24, "hand": "right",
                                                                        "finger": 1 + i % 5, "confidence": 0.9})))
        if sessions:
            for u in range(UNITS):
                seq += 1
                unit = f"unit-{u:03d}"
                batch.append((f"pianocam/{unit}/session", envelope(unit, seq, {
                    "started": "2026-09-14T15:00:00.000Z", "notes": seq, "active": True})))
        yield batch


def rate(url: str, count: int, sessions: bool) -> float:
    store = Store(open_engine(url))
    prepared = list(batches(count, sessions))
    began = time.perf_counter()
    for batch in prepared:
        store.record(batch)
    elapsed = time.perf_counter() - began
    store.engine.dispose()
    return sum(len(b) for b in prepared) / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--batches", type=int, default=20)
    args = parser.parse_args()
    cluster = PostgresCluster(free_port(), fsync=True).start()
    rows = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for db in ("sqlite", "postgresql"):
                for sessions in (False, True):
                    rates = []
                    for k in range(args.runs):
                        url = cluster.new_database() if db == "postgresql" else f"sqlite:///{tmp}/r{sessions}{k}.sqlite"
                        rates.append(rate(url, args.batches, sessions))
                    rows.append((db, "notes + session summaries" if sessions else "notes", float(np.median(rates))))
    finally:
        cluster.stop()
    print(f"median of {args.runs} runs, {args.batches} batches of 400 notes from {UNITS} units (+ {UNITS} summaries)")
    print("| database | batch | messages/s committed |")
    print("|---|---|---:|")
    for db, what, r in rows:
        print(f"| {db} | {what} | {r:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

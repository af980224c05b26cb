"""Pipeline speed on a rendered 20-s scene: fps and per-stage latency, pinned to one CPU.

Frames are read unpaced (as fast as the pipeline goes), notes come from the scene's MIDI, keys
from a key map calibrated once, technique from the shipped int8 model, and every result is
published, hands topic included, through the real publisher to an embedded broker. Each configuration runs
several times; the table gives the median fps over runs and the median / p95 of each stage
over all frames of all runs.
Usage: .venv/bin/python benchmarks/pipeline.py [--runs 3] [--seconds 20] [--cpus 1]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

import cv2
import numpy as np

from pianocam.calibration.live import calibrate_frame
from pianocam.commands.broker import EmbeddedBroker
from pianocam.config import CalibrationConfig, load_config
from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import HandTracker
from pianocam.notes.midi import MidiFileSource
from pianocam.scene import SceneSpec
from pianocam.scene.source import SceneSource
from pianocam.technique.estimator import TechniqueEstimator
from pianocam.transport.journal import Journal
from pianocam.transport.publisher import Publisher
from pianocam.unit.metrics import StageTimer
from pianocam.unit.pipeline import Pipeline, run_to_end
from pianocam.unit.played import PlayedNotes

STAGES = ("capture_wait", "track", "fingering", "technique", "publish", "total")


def scene_keymap(spec: SceneSpec):
    """A key map from the first frame that shows both keyboard ends (hands may hide one)."""
    source = SceneSource(spec, realtime=False).open()
    while (frame := source.read()) is not None:
        keymap, _ = calibrate_frame(frame.image, CalibrationConfig())
        if keymap is not None:
            source.close()
            return keymap
    raise SystemExit("could not calibrate the benchmark scene")


def one_run(spec: SceneSpec, complexity: int, broker: EmbeddedBroker, state: str,
            keymap) -> tuple[float, StageTimer, float]:
    config = load_config(environ={})
    config.unit_id = "bench"
    config.mqtt.host, config.mqtt.port = broker.host, broker.port
    publisher = Publisher(config, Journal(f"{state}/journal-{time.monotonic_ns()}.sqlite"))
    publisher.start()
    source = SceneSource(spec, realtime=False)
    tracker = HandTracker(model_complexity=complexity)
    notes = MidiFileSource(source.performance(), realtime=False).open()
    pipeline = Pipeline(source, tracker, publisher.emit, notes=PlayedNotes(notes, FingerAssigner(keymap)),
                        technique=TechniqueEstimator(), metrics_interval=5.0, publish_hands=True)
    progress, elapsed = run_to_end(pipeline)
    publisher.stop()
    return progress.frames / elapsed, pipeline.timer, progress.frames_with_both / max(progress.frames, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--keys", type=int, default=61)
    parser.add_argument("--cpus", type=int, default=1, help="CPUs the process is pinned to (default 1)")
    parser.add_argument("--complexity", default="0,1", help="model complexities to measure")
    args = parser.parse_args()
    os.sched_setaffinity(0, set(sorted(os.sched_getaffinity(0))[: args.cpus]))
    cv2.setNumThreads(1)
    spec = SceneSpec(seed=7, keys=args.keys, seconds=args.seconds)
    keymap = scene_keymap(spec)  # renders into the cache too, before anything is timed
    print(f"rendered scene seed 7, {args.keys} keys, {args.seconds:g} s at {spec.width}x{spec.height}; "
          f"pinned to {args.cpus} CPU(s); {args.runs} runs each")
    print(f"{'complexity':>10} {'fps (median)':>13} {'both hands':>11} " +
          " ".join(f"{s + ' p50/p95 ms':>24}" for s in STAGES))
    with tempfile.TemporaryDirectory() as state, EmbeddedBroker() as broker:
        for complexity in (int(c) for c in args.complexity.split(",")):
            fps, detections, samples = [], [], {s: [] for s in STAGES}
            for _ in range(args.runs):
                run_fps, timer, both = one_run(spec, complexity, broker, state, keymap)
                fps.append(run_fps)
                detections.append(both)
                for stage in STAGES:
                    samples[stage] += timer.samples(stage)
            cells = " ".join(f"{np.median(samples[s]):>12.2f}/{np.percentile(samples[s], 95):<11.2f}" for s in STAGES)
            print(f"{complexity:>10} {statistics.median(fps):>13.1f} {statistics.median(detections):>11.1%} {cells}")


if __name__ == "__main__":
    main()

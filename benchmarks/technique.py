"""Size and one-thread latency of the shipped technique model, fp32 against int8, plus the featuriser's cost.

    .venv/bin/python benchmarks/technique.py [--model-dir models/technique] [--runs 200]
"""
from __future__ import annotations

import argparse
import csv
import statistics
import time
from pathlib import Path

import numpy as np

from pianocam.models.runtime import load_onnx_model
from pianocam.technique.features import FEATURISERS, standardise

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, runs: int) -> float:
    """Median milliseconds of fn() over runs calls, after a few warm-up calls."""
    for _ in range(5):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1e3)
    return statistics.median(samples)


def recorded_window(data: Path) -> np.ndarray:
    with open(data / "kps_adv_holdout.csv", newline="") as f:
        rows = list(csv.reader(f))[1:21]
    return np.array([[float(v) for v in r[:63]] for r in rows]).reshape(20, 21, 3)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model-dir", type=Path, default=ROOT / "models" / "technique")
    p.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data" / "seed000-landmarks")
    p.add_argument("--runs", type=int, default=200)
    args = p.parse_args()
    window = recorded_window(args.data)
    print(f"| artifact | precision | bytes | featurise ms | inference ms (1 thread, median of {args.runs}) |")
    print("|---|---|---|---|---|")
    for precision in ("fp32", "int8"):
        manifest = args.model_dir / f"technique.{precision}.json"
        import json
        f = FEATURISERS[json.loads(manifest.read_text())["features"]["featuriser"]]
        model = load_onnx_model(manifest, f.schema, f.shape, threads=1)
        mean, std = model.manifest["normalisation"]["mean"], model.manifest["normalisation"]["std"]
        x = standardise(f.window(window), mean, std)[None]
        featurise_ms = timed(lambda: standardise(f.window(window), mean, std), args.runs)
        infer_ms = timed(lambda: model.run(x), args.runs)
        print(f"| {model.path.name} | {precision} | {model.path.stat().st_size} | {featurise_ms:.3f} | {infer_ms:.3f} |")


if __name__ == "__main__":
    main()

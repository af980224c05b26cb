"""Parity: an exported artifact, run by the unit's own loader, against the torch model it came from."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pianocam.export.networks import as_batches

DEFAULT_THRESHOLDS = {"fp32": (1e-3, 0.99), "int8": (0.2, 0.9)}   # precision → (max abs diff, min top-1 agreement)


@dataclass(frozen=True)
class Thresholds:
    max_abs_diff: float
    min_agreement: float


def parse_thresholds(text: str | None) -> dict[str, Thresholds]:
    """'int8=0.2:0.9,fp32=0.001:0.99' → thresholds per precision (unnamed precisions keep the defaults)."""
    table = {k: Thresholds(*v) for k, v in DEFAULT_THRESHOLDS.items()}
    for part in filter(None, (text or "").split(",")):
        precision, _, values = part.partition("=")
        if precision not in table or ":" not in values:
            raise ValueError(f"--parity {part!r}: expected PRECISION=MAX_DIFF:MIN_AGREEMENT with PRECISION in "
                             f"{sorted(table)}")
        diff, agreement = values.split(":")
        table[precision] = Thresholds(float(diff), float(agreement))
    return table


def run_artifact(model, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
    chunks = [list(model.run_all(b).values()) for b in as_batches(inputs, 1)]
    return [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]


def measure(manifest_path: Path, inputs: dict[str, np.ndarray], reference: list[np.ndarray], output_names,
            labels: np.ndarray | None, limits: Thresholds) -> dict:
    """Max abs difference and top-1 agreement per output, accuracy delta when labels exist; `ok` against limits."""
    from pianocam.models.runtime import load_model

    model = load_model(manifest_path, threads=1)
    outputs = run_artifact(model, inputs)
    per_output = {}
    for name, ours, theirs in zip(output_names, outputs, reference):
        row = {"max_abs_diff": float(np.abs(ours - theirs).max()),
               "top1_agreement": float((ours.argmax(1) == theirs.argmax(1)).mean())}
        if labels is not None:
            row["accuracy_torch"] = float((theirs.argmax(1) == labels).mean())
            row["accuracy_artifact"] = float((ours.argmax(1) == labels).mean())
            row["accuracy_delta"] = row["accuracy_artifact"] - row["accuracy_torch"]
        per_output[name] = row
    worst_diff = max(r["max_abs_diff"] for r in per_output.values())
    worst_agreement = min(r["top1_agreement"] for r in per_output.values())
    return {"samples": int(len(reference[0])), "outputs": per_output, "max_abs_diff": worst_diff,
            "top1_agreement": worst_agreement,
            "thresholds": {"max_abs_diff": limits.max_abs_diff, "min_top1_agreement": limits.min_agreement},
            "ok": worst_diff <= limits.max_abs_diff and worst_agreement >= limits.min_agreement}


def median_latency_ms(manifest_path: Path, inputs: dict[str, np.ndarray], runs: int = 30, threads: int = 1) -> float:
    """Median wall time of one single-sample run through the unit's loader, after warm-up."""
    from pianocam.models.runtime import load_model

    model = load_model(manifest_path, threads=threads)
    sample = {k: v[:1] for k, v in inputs.items()}
    for _ in range(3):
        model.run(sample)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        model.run(sample)
        times.append(time.perf_counter() - started)
    return float(np.median(times) * 1e3)

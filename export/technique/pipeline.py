"""`pianocam train technique`: every variant cross-validated two ways, the best exported as fp32 and int8 ONNX."""
from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from pianocam.export.technique.data import LABELS, load_technique_data
from pianocam.export.technique.onnx_export import export_fp32, onnx_probabilities, quantize_int8, write_manifest
from pianocam.export.technique.train import (
    PAPER_TABLE1,
    VARIANTS,
    cross_validate,
    featurise,
    metrics,
    train_variant,
    training_windows,
)
from pianocam.technique.features import FEATURISERS

logger = logging.getLogger(__name__)


def train_technique(data_dir: Path, folds: int, out: Path, seed: int, only: list[str] | None = None,
                    epochs: int | None = None, command: str | None = None) -> dict:
    """Cross-validate, choose, check int8 against fp32 on the same folds, fit on all data, export; returns the report."""
    data = load_technique_data(data_dir)
    variants = [v for v in VARIANTS if only is None or v.name in only]
    if not variants:
        raise ValueError(f"no variant among {only}; known: {', '.join(v.name for v in VARIANTS)}")
    if epochs:
        variants = [replace(v, epochs=epochs) for v in variants]
    rows = []
    for v in variants:
        # blocks: the rule (10 consecutive sequences of one class file stay together);
        # recordings: blocks merged where a recording runs on across a block boundary (stricter).
        blocks = cross_validate(v, data, data.blocks, folds, seed)
        recordings = cross_validate(v, data, data.recordings, folds, seed)
        logger.info("%-28s blocks %.3f ± %.3f  recordings %.3f ± %.3f", v.name, blocks["accuracy_mean"],
                    blocks["accuracy_std"], recordings["accuracy_mean"], recordings["accuracy_std"])
        rows.append({"name": v.name, "model": v.model, "features": v.features, "augment": v.augment,
                     "mirror": v.mirror, "epochs": v.epochs, "note": v.note,
                     "paper_holdout": PAPER_TABLE1.get(v.name, {}).get("holdout"),
                     "blocks": blocks, "recordings": recordings})
    exportable = [r for r in rows if r["model"] != "clustered" and r["features"] in FEATURISERS]
    if not exportable:
        raise ValueError("none of the chosen variants can run on the unit (clustered and raw-landmark ones cannot)")
    best = max(exportable, key=lambda r: (r["blocks"]["accuracy_mean"], r["recordings"]["accuracy_mean"]))
    variant = next(v for v in variants if v.name == best["name"])
    logger.info("chosen: %s", variant.name)
    quantisation = int8_on_folds(variant, data, folds, seed)
    manifests = export_final(variant, data, out, seed, best, quantisation, command)
    return {
        "paper": "seed 000, Table 1 (holdout accuracy of one 200-sequence split; ours: mean over folds)",
        "paper_table1": PAPER_TABLE1,
        "data": {"folder": str(data_dir), "sequences": int(len(data.labels)),
                 "per_label": {label: int((data.labels == i).sum()) for i, label in enumerate(LABELS)},
                 "blocks": int(len(np.unique(data.blocks))), "recordings": int(len(np.unique(data.recordings)))},
        "folds": folds, "seed": seed,
        "selection": "highest mean blocks accuracy among variants the unit can run (chosen on these CV "
                     "results, so its CV figure is optimistic)",
        "chosen": variant.name, "quantisation": quantisation, "manifests": [str(m) for m in manifests],
        "variants": rows,
    }


def int8_on_folds(variant, data, folds: int, seed: int) -> dict:
    """The chosen variant's fold models through fp32 and int8 ONNX, scored on the same held-out sequences."""
    fp32_pred, int8_pred, true = [], [], []

    def on_fold(k, fitted, train, test):
        with tempfile.TemporaryDirectory() as tmp:
            x_train = fitted.standardise(featurise(training_windows(data, train, False, None)[0],
                                                   variant.features, variant.mirror))
            x_test = fitted.standardise(featurise(data.sequences[test], variant.features, variant.mirror))
            fp32 = export_fp32(fitted.models[0], x_test.shape[1:], Path(tmp) / "fold.fp32.onnx")
            int8 = quantize_int8(fp32, Path(tmp) / "fold.int8.onnx", x_train)
            fp32_pred.append(onnx_probabilities(fp32, x_test).argmax(1))
            int8_pred.append(onnx_probabilities(int8, x_test).argmax(1))
            true.append(data.labels[test])

    cross_validate(variant, data, data.blocks, folds, seed, on_fold=on_fold)
    y, a, b = np.concatenate(true), np.concatenate(fp32_pred), np.concatenate(int8_pred)
    return {"grouping": "blocks", "fp32_accuracy": metrics(y, a)["accuracy"], "int8_accuracy": metrics(y, b)["accuracy"],
            "fp32": metrics(y, a), "int8": metrics(y, b), "agreement": float((a == b).mean())}


def export_final(variant, data, out: Path, seed: int, row: dict, quantisation: dict, command: str | None) -> list:
    """Fit on every sequence, write technique.fp32.onnx / technique.int8.onnx with their manifests."""
    out.mkdir(parents=True, exist_ok=True)
    index = np.arange(len(data.labels))
    fitted = train_variant(variant, data, index, seed)
    featuriser = FEATURISERS[variant.features]
    x_all = fitted.standardise(featurise(data.sequences, variant.features, variant.mirror))
    fp32 = export_fp32(fitted.models[0], featuriser.shape, out / "technique.fp32.onnx")
    int8 = quantize_int8(fp32, out / "technique.int8.onnx", x_all)
    summary = {
        "architecture": variant.model, "variant": variant.name, "augment": variant.augment,
        "cv": {"folds": len(row["blocks"]["folds"]), "seed": seed,
               "blocks": {k: row["blocks"][k] for k in ("accuracy_mean", "accuracy_std", "macro_f1_mean")}
               | {"pooled": row["blocks"]["pooled"]},
               "recordings": {k: row["recordings"][k] for k in ("accuracy_mean", "accuracy_std", "macro_f1_mean")}
               | {"pooled": row["recordings"]["pooled"]},
               "onnx_same_folds": {"fp32": quantisation["fp32_accuracy"], "int8": quantisation["int8_accuracy"]}},
        "trained": {"data": "seed000-landmarks (kps_beg_holdout.csv, kps_adv_holdout.csv)",
                    "sequences": int(len(index)), "command": command or "pianocam train technique --data "
                    "../shared/data/seed000-landmarks --folds 5 --report report.json"},
    }
    manifests = []
    for path, precision in ((fp32, "fp32"), (int8, "int8")):
        manifests.append(write_manifest(path, precision, featuriser.shape, featuriser, LABELS, fitted.mean,
                                        fitted.std, dict(summary)))
    return manifests

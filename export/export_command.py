"""`pianocam export MODEL`: prune, quantise and convert a model to ONNX and TFLite, each artifact checked against torch.

Light at import (the unit's environment lists this command without torch); everything heavy is
imported inside run() and inside each format's writer (export/formats.py).
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

logger = logging.getLogger(__name__)

MODEL_NAMES = ("finger_action", "finger_action-base", "finger_action-sam", "finger_action-seam",
               "finger_action-wide", "pisa", "technique")
BASE_FORMATS = ("onnx", "tflite")
MANIFEST_VERSION = 2


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=MODEL_NAMES, help="which model to export")
    p.add_argument("--formats", default="onnx,tflite",
                   help="comma-separated: onnx, tflite, onnx-int8, tflite-int8 (default onnx,tflite)")
    p.add_argument("--int8", action="store_true", help="also write the static-int8 artifact of each format")
    p.add_argument("--calib", metavar="DIR", help="calibration samples: *.npz files whose arrays are named after "
                   "the model's inputs, samples on the first axis (default: the model's representative inputs)")
    p.add_argument("--calib-count", type=int, default=64, help="representative samples made when --calib is not "
                   "given (default 64)")
    p.add_argument("--val-count", type=int, default=32, help="representative samples for parity when the model "
                   "has no labelled data (default 32)")
    p.add_argument("--prune", type=float, metavar="RATIO", help="structured pruning: remove this fraction of "
                   "channels / units (by L1 norm) before export")
    p.add_argument("--data", metavar="DIR", help="labelled training data (technique: the seed-000 landmark CSVs): "
                   "fine-tunes after pruning and adds accuracy to parity")
    p.add_argument("--epochs", type=int, default=20, help="fine-tune epochs after pruning with --data (default 20)")
    p.add_argument("--parity", metavar="P=DIFF:AGREE,…", help="parity thresholds per precision "
                   "(default fp32=0.001:0.99,int8=0.2:0.9); the export fails when an artifact is worse")
    p.add_argument("--out", metavar="DIR", help="output folder (default models/MODEL)")
    p.add_argument("--seed", type=int, default=0, help="initialisation and representative-data seed (default 0)")
    p.add_argument("--version", default="1", help="model version written into the manifests (default 1)")
    p.add_argument("--source", metavar="MANIFEST", help="technique: the fp32 manifest whose weights are re-exported "
                   "(default models/technique/technique.fp32.json)")
    p.add_argument("--width", type=float, default=1.0, help="pisa: channel-width multiplier (1.0 = the paper)")
    p.add_argument("--clips", type=int, default=10, help="pisa: clips per sample (default 10, the paper's)")


def selected_formats(args) -> list[str]:
    keys = [k.strip() for k in args.formats.split(",") if k.strip()]
    if args.int8:
        keys += [f"{k}-int8" for k in keys if k in BASE_FORMATS]
    return list(dict.fromkeys(keys))


def check_options(args, formats: dict, keys: list[str]) -> None:
    """Every option given must be honoured by every format asked for; name the ones that would be ignored."""
    unknown = [k for k in keys if k not in formats]
    if unknown:
        raise ValueError(f"unknown format {', '.join(unknown)}; known: {', '.join(formats)}")
    given = {"prune": args.prune is not None, "calib": args.calib is not None, "data": args.data is not None}
    for option, is_given in given.items():
        if not is_given:
            continue
        ignoring = [k for k in keys if option not in formats[k].options]
        if len(ignoring) == len(keys):
            raise ValueError(f"--{option} is not an option of {', '.join(ignoring)} "
                             f"(it applies to {', '.join(k for k, f in formats.items() if option in f.options)})")
    if args.prune is not None and not 0 < args.prune < 1:
        raise ValueError(f"--prune {args.prune}: a fraction between 0 and 1")


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print("pianocam export: needs torch, which this environment lacks. Export runs in the export "
              "environment: ./setup.sh export, then .venv-export/bin/pianocam export ...", file=sys.stderr)
        return 2
    from pianocam.export.formats import FORMATS

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    keys = selected_formats(args)
    try:
        check_options(args, FORMATS, keys)
        result = export_model(args, keys)
    except ValueError as err:
        print(f"pianocam export: {err}", file=sys.stderr)
        return 2
    print(format_table(result))
    failed = [r["artifact"] for r in result["artifacts"] if not r["parity"]["ok"]]
    if failed:
        print(f"pianocam export: parity worse than the thresholds for {', '.join(failed)} "
              f"(artifacts kept for inspection, manifests say ok=false)", file=sys.stderr)
        return 1
    return 0


def export_model(args, keys: list[str]) -> dict:
    """Build, prune (and fine-tune), export every format, check parity; returns a summary."""
    import torch

    from pianocam.export import manifest as manifests
    from pianocam.export.formats import FORMATS, torch_outputs, write
    from pianocam.export.networks import spec as model_spec
    from pianocam.export.parity import measure, median_latency_ms, parse_thresholds
    from pianocam.export.pruning import fine_tune, parameter_count, prune

    thresholds = parse_thresholds(args.parity)
    spec = model_spec(args.model, clips=args.clips)
    out = Path(args.out or f"models/{spec.name}")
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(args.seed)
    model, carried = spec.build(args.seed, args)
    labelled = spec.labelled(args.data, args) if args.data and spec.labelled else None
    if args.data and not spec.labelled:
        raise ValueError(f"--data: {spec.name} has no training-data reader yet (weights are untrained)")
    pruning = None
    if args.prune:
        before = parameter_count(model)
        accuracy_before = _accuracy(model, labelled)
        prune(model, args.prune)
        pruning = {"ratio": args.prune, "parameters_before": before, "parameters_after": parameter_count(model),
                   "method": "structured, L1 norm of each channel / unit; removed from the graph"}
        if labelled is not None:
            fine_tune(model, *labelled, epochs=args.epochs, seed=args.seed)
            pruning["fine_tune"] = {"epochs": args.epochs, "data": str(args.data)}
        pruning.update(accuracy_before=accuracy_before, accuracy_after=_accuracy(model, labelled))
        logger.info("pruned %s: %d → %d parameters", spec.name, before, pruning["parameters_after"])
    model.eval()

    calibration, calibration_source = _calibration(args, spec, keys)
    if getattr(args, "validation", None) is not None:   # a trainer's held-out inputs, labels and what they are
        validation, labels, validation_source = args.validation
    elif labelled is not None:
        validation, labels, validation_source = labelled[0], labelled[1], f"labelled data {args.data} (training data)"
    else:
        validation = spec.representative(args.val_count, args.seed + 1000, args)
        labels, validation_source = None, f"representative inputs, seed {args.seed + 1000} ({spec.calibration_note})"
    reference = torch_outputs(model, validation)

    artifacts = []
    for key in keys:
        fmt = FORMATS[key]
        path, seconds = write(fmt, model, spec, out, calibration if fmt.precision == "int8" else None)
        manifest = manifests.build(spec, fmt, path, args, carried, pruning,
                                   export={"seconds": round(seconds, 2), "tool": manifests.tool_versions(key),
                                           "command": "pianocam export " + " ".join(sys.argv[2:])
                                           if len(sys.argv) > 2 and sys.argv[1] == "export" else None,
                                           "calibration": calibration_source if fmt.precision == "int8" else None},
                                   version=args.version, manifest_version=MANIFEST_VERSION)
        json_path = manifests.write(manifest, path)
        parity = measure(json_path, validation, reference, spec.outputs, labels, thresholds[fmt.precision])
        parity["inputs"] = validation_source
        manifest["parity"] = parity
        runs = getattr(args, "latency_runs", 30)   # a trainer's large network: fewer timed runs
        manifest["measured"] = {"median_ms_1_thread": round(median_latency_ms(json_path, validation, runs=runs), 3),
                                "runs": runs,
                                "machine": manifests.machine()}
        json_path = manifests.write(manifest, path)
        artifacts.append({"format": key, "artifact": path.name, "manifest": json_path.name, "bytes": manifest["bytes"],
                          "seconds": round(seconds, 2), "parity": parity,
                          "median_ms_1_thread": manifest["measured"]["median_ms_1_thread"]})
    return {"model": spec.name, "out": str(out), "pruning": pruning, "artifacts": artifacts,
            "trained": carried.get("trained")}


def _accuracy(model, labelled) -> float | None:
    if labelled is None:
        return None
    from pianocam.export.formats import torch_outputs

    return float((torch_outputs(model.eval(), labelled[0])[0].argmax(1) == labelled[1]).mean())


def _calibration(args, spec, keys: list[str]):
    if not any(k.endswith("-int8") for k in keys):
        return None, None
    if args.calib:
        from pianocam.export.manifest import read_calibration

        return read_calibration(Path(args.calib), spec), f"--calib {args.calib}"
    return (spec.representative(args.calib_count, args.seed, args),
            f"{args.calib_count} representative samples, seed {args.seed}: {spec.calibration_note}")


def format_table(result: dict) -> str:
    lines = [f"{result['model']} → {result['out']}" + ("" if result["trained"] else "  (UNTRAINED weights)"),
             "| artifact | bytes | export s | median ms (1 thread) | max abs diff | top-1 agreement | accuracy Δ | ok |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for a in result["artifacts"]:
        p = a["parity"]
        deltas = [o.get("accuracy_delta") for o in p["outputs"].values() if "accuracy_delta" in o]
        lines.append(f"| {a['artifact']} | {a['bytes']:,} | {a['seconds']:.1f} | {a['median_ms_1_thread']:.2f} "
                     f"| {p['max_abs_diff']:.2e} | {p['top1_agreement']:.3f} "
                     f"| {'' if not deltas else f'{min(deltas):+.3f}'} | {'yes' if p['ok'] else 'NO'} |")
    if result["pruning"]:
        pr = result["pruning"]
        lines.append(f"pruned {pr['ratio']:.0%}: {pr['parameters_before']:,} → {pr['parameters_after']:,} parameters"
                     + (f"; accuracy {pr['accuracy_before']:.3f} → {pr['accuracy_after']:.3f}"
                        if pr.get("accuracy_before") is not None else ""))
    return "\n".join(lines)


"""`pianocam train`: seed 000's technique models, seed 003's finger-action network, seed 004's PISA skill network."""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)

MODELS = ("technique", "finger-action", "skill")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", choices=MODELS, help="which model to train")
    p.add_argument("--data", required=True, metavar="DIR", help="technique: folder with kps_adv_holdout.csv and "
                   "kps_beg_holdout.csv; finger-action: the folder `pianocam collect` wrote; skill: a folder in PISA's "
                   "release layout (Annotations/Annotations_Ready2Use/*.pkl, videos/<id>/*.jpg, audios/<id>.wav)")
    p.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
    p.add_argument("--report", default="report.json", metavar="FILE", help="where the metrics go (default report.json)")
    p.add_argument("--out", metavar="DIR", help="where the chosen model's files and manifests go "
                   "(default models/technique, models/finger_action, models/skill)")
    p.add_argument("--holdout", metavar="A,B", help="finger-action: recordings (collect --group) held out of "
                   "training and scored (default: the last two rendered scenes)")
    p.add_argument("--version", default="1", help="finger-action, skill: model version in the manifests (default 1)")
    p.add_argument("--seed", type=int, default=0, help="seed for folds, initial weights and augmentation (default 0)")
    p.add_argument("--variants", metavar="A,B", help="only these variants (default: all; see the report)")
    p.add_argument("--epochs", type=int, help="technique: override every variant's epochs (quick checks only); "
                   "finger-action: epochs (default 6); skill: epochs (default 10)")
    p.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the models are tiny)")
    p.add_argument("--scheme", choices=("unidist", "consecutive"), default="unidist",
                   help="skill: PISA's sampling scheme, whose pickles are read (default unidist)")
    p.add_argument("--width", type=float, default=0.25,
                   help="skill: channel-width multiplier of the PISA network (1.0 = the paper's; default 0.25)")
    p.add_argument("--parity", metavar="P=DIFF:AGREE,…", help="skill: parity thresholds per precision "
                   "(default fp32=0.001:0.99,int8=0.2:0.9); an artifact worse than them is removed")


def run(args: argparse.Namespace) -> int:
    try:
        import torch
    except ImportError:
        print("pianocam train: needs torch, which this environment lacks. Training runs in the export "
              "environment: ./setup.sh export, then .venv-export/bin/pianocam train ...", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    if args.model in ("finger-action", "skill"):
        if args.model == "skill":
            from pianocam.export.skill.train import run_training
        else:
            from pianocam.export.finger_action.train import run_training

        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        args.out = args.out or ("models/skill" if args.model == "skill" else "models/finger_action")
        args.command_line = " ".join(["pianocam", "train", *sys.argv[2:]]) if len(sys.argv) > 2 else None
        try:
            return run_training(args)
        except ValueError as err:
            print(f"pianocam train: {err}", file=sys.stderr)
            return 2
    from pianocam.export.technique.pipeline import train_technique

    args.out = args.out or "models/technique"
    started = time.perf_counter()
    report = train_technique(Path(args.data), args.folds, Path(args.out), args.seed,
                             args.variants.split(",") if args.variants else None, args.epochs,
                             command=" ".join(["pianocam", "train", *sys.argv[2:]]) if len(sys.argv) > 2 else None)
    report["seconds"] = round(time.perf_counter() - started, 1)
    Path(args.report).write_text(json.dumps(report, indent=2) + "\n")
    print(format_table(report))
    print(f"report: {args.report}; model: {args.out}; {report['seconds']} s")
    return 0


def format_table(report: dict) -> str:
    """The report's variants beside the paper's Table 1, as a Markdown table."""
    lines = ["| variant | features | blocks acc (mean ± sd) | blocks macro-F1 (pooled) | recordings acc "
             "| recordings macro-F1 (pooled) | paper holdout |", "|---|---|---|---|---|---|---|"]
    for v in report["variants"]:
        b, r = v["blocks"], v.get("recordings")
        paper = v.get("paper_holdout")
        lines.append(f"| {v['name']} | {v['features']}{' +aug' if v['augment'] else ''} "
                     f"| {b['accuracy_mean']:.3f} ± {b['accuracy_std']:.3f} | {b['pooled']['macro_f1']:.3f} "
                     f"| {r['accuracy_mean']:.3f} ± {r['accuracy_std']:.3f} | {r['pooled']['macro_f1']:.3f} "
                     f"| {'' if paper is None else f'{paper:.3f}'} |" if r else
                     f"| {v['name']} | {v['features']} | {b['accuracy_mean']:.3f} | {b['pooled']['macro_f1']:.3f} | | | |")
    q = report.get("quantisation")
    if q:
        lines.append(f"\nchosen: {report['chosen']}; same folds, onnxruntime: fp32 {q['fp32_accuracy']:.3f}, "
                     f"int8 {q['int8_accuracy']:.3f} (agreement {q['agreement']:.3f})")
    return "\n".join(lines)

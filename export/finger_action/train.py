"""Train seed 003's finger-action network on `pianocam collect` clips, hold out whole recordings, export it.

Labels are the decoder's (the notes as teacher); truth stored beside them (rendered scenes' own,
the real clips' by-eye labels) is used only to score the held-out recordings.
"""
from __future__ import annotations

import json
import logging
import sys
import tempfile
import time
from argparse import Namespace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pianocam.export.networks import finger_action as fa
from pianocam.fingering.crops import normalise

logger = logging.getLogger(__name__)


def load(data: Path) -> list[dict]:
    """Every NAME.npz / NAME.json pair in the folder: clips (uint8), teacher labels, truth, meta."""
    sets = []
    for meta_path in sorted(data.glob("*.json")):
        npz = meta_path.with_suffix(".npz")
        if not npz.exists():
            continue
        meta = json.loads(meta_path.read_text())
        with np.load(npz) as d:
            sets.append({"meta": meta, "frames": d["frames"], "labels": d["labels"].astype(np.int64),
                         "truth": d["truth"].astype(np.int64), "note": d["note"].astype(np.int64)})
    if not sets:
        raise ValueError(f"--data {data}: no NAME.npz with NAME.json from `pianocam collect` there")
    return sets


def _augment(clips: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per clip brightness and contrast, and a shift of a few pixels (hands never sit at the same spot)."""
    out = clips.astype(np.float32)
    gain = rng.uniform(0.75, 1.25, (len(out), 1, 1, 1, 1))
    bias = rng.uniform(-20, 20, (len(out), 1, 1, 1, 1))
    out = np.clip(out * gain + bias, 0, 255)
    for i in range(len(out)):
        dx, dy = rng.integers(-6, 7, 2)
        out[i] = np.roll(out[i], (dy, dx), axis=(1, 2))
    return out


def predict(model: nn.Module, frames: np.ndarray, batch: int = 16) -> np.ndarray:
    model.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(frames), batch):
            out.append(torch.softmax(model(torch.from_numpy(normalise(frames[i:i + batch]))), 1).numpy())
    return np.concatenate(out) if out else np.zeros((0, len(fa.LABELS)))


def scores(probabilities: np.ndarray, truth: np.ndarray, note: np.ndarray) -> dict:
    """Notes: of the clips of one note (the pressing fingertip and its neighbours), is the one the network
    finds likeliest to have struck (1 - p(none)) the truly pressing one; clips: the six-way label."""
    known = truth >= 0
    right = total = 0
    for n in np.unique(note[(note >= 0) & known]):
        group = np.flatnonzero((note == n) & known)
        if not (truth[group] > 0).any():
            continue  # the truth's finger is not among these clips
        total += 1
        right += truth[group[np.argmax(1.0 - probabilities[group, 0])]] > 0
    return {"notes": int(total), "finger_accuracy": round(right / total, 4) if total else None,
            "clips": int(known.sum()),
            "six_way_accuracy": round(float((probabilities[known].argmax(1) == truth[known]).mean()), 4)
            if known.any() else None}


def train(sets: list[dict], holdout: list[str], epochs: int, seed: int, batch: int = 16, lr: float = 2e-3):
    """Train on every set not held out; returns the model, per-epoch losses and held-out scores."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    used = [s for s in sets if s["meta"]["group"] not in holdout]
    if not used:
        raise ValueError("every recording is held out: nothing to train on")
    frames = np.concatenate([s["frames"] for s in used])
    labels = np.concatenate([s["labels"] for s in used])
    model = fa.build("both", "small")
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    steps = epochs * ((len(labels) + batch - 1) // batch)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps)
    # Classes are unbalanced (thumbs and none are common): weigh each by its inverse frequency.
    counts = np.bincount(labels, minlength=len(fa.LABELS)).astype(np.float32)
    weight = torch.from_numpy(np.where(counts > 0, counts.sum() / np.maximum(counts, 1) / len(fa.LABELS), 0.0))
    history = []
    for epoch in range(epochs):
        model.train()
        order = rng.permutation(len(labels))
        total, began = 0.0, time.perf_counter()
        for i in range(0, len(order), batch):
            index = np.sort(order[i:i + batch])
            x = torch.from_numpy(normalise(_augment(frames[index], rng)))
            loss = nn.functional.cross_entropy(model(x), torch.from_numpy(labels[index]), weight=weight.float())
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += float(loss.detach()) * len(index)
        history.append({"epoch": epoch + 1, "loss": round(total / len(labels), 4),
                        "seconds": round(time.perf_counter() - began, 1)})
        logger.info("epoch %d: loss %.4f (%.0f s)", epoch + 1, history[-1]["loss"], history[-1]["seconds"])
    model.eval()
    held = {}
    for s in sets:
        if s["meta"]["group"] in holdout:
            held[s["meta"]["name"]] = {**scores(predict(model, s["frames"]), s["truth"], s["note"]),
                                       "real": not s["meta"]["name"].startswith("scene-")}
    trained_on = {s["meta"]["name"]: {"positives": s["meta"]["positives"], "negatives": s["meta"]["negatives"],
                                      "notes": s["meta"]["notes"]} for s in used}
    return model, history, held, trained_on


def pooled(held: dict, real: bool) -> dict | None:
    rows = [v for v in held.values() if v["real"] == real and v["notes"]]
    if not rows:
        return None
    notes = sum(r["notes"] for r in rows)
    return {"notes": notes, "finger_accuracy": round(sum(r["finger_accuracy"] * r["notes"] for r in rows) / notes, 4),
            "recordings": [k for k, v in held.items() if v["real"] == real]}


def run_training(args) -> int:
    """`pianocam train finger-action`: train, then the export stage writes ONNX/TFLite (fp32, int8) with parity."""
    from pianocam.export.export_command import export_model, format_table, selected_formats

    torch.set_num_threads(args.threads)
    data = Path(args.data)
    sets = load(data)
    groups = sorted({s["meta"]["group"] for s in sets})
    holdout = args.holdout.split(",") if args.holdout else [g for g in groups if g.startswith("scene-")][-2:]
    unknown = [h for h in holdout if h not in groups]
    if unknown:
        raise ValueError(f"--holdout {','.join(unknown)}: no such recording in {data} (has {', '.join(groups)})")
    began = time.perf_counter()
    model, history, held, trained_on = train(sets, holdout, args.epochs or 6, args.seed)
    training = {"data": str(data), "teacher": "pianocam collect: the finger the decoder gave each note with "
                "confidence >= its --min-confidence, notes its hand played alone; none: a hand striking nothing",
                "trained_on": trained_on, "held_out": held, "epochs": history, "seed": args.seed,
                "threads": args.threads, "seconds": round(time.perf_counter() - began, 1),
                "command": getattr(args, "command_line", None)}
    metrics = {"held_out_rendered": pooled(held, real=False), "real_notes": pooled(held, real=True),
               "note": "finger_accuracy: per note, whether the fingertip clip the network finds likeliest to have "
                       "struck (1 - p(none)), among the pressing fingertip and its neighbours, is the truly pressing "
                       "one (rendered: the scene's truth; real: tests/fingering/fingering_real.json, by eye); on "
                       "recordings held out of training"}
    with tempfile.TemporaryDirectory() as tmp:
        weights = Path(tmp) / "weights.pt"
        torch.save(model.state_dict(), weights)
        calib = Path(tmp) / "calib"
        calib.mkdir()
        frames = np.concatenate([s["frames"] for s in sets if s["meta"]["group"] not in holdout])
        pick = np.random.default_rng(args.seed).choice(len(frames), min(64, len(frames)), replace=False)
        np.savez(calib / "calib.npz", frames=normalise(frames[np.sort(pick)]))
        export_args = Namespace(model="finger_action", formats="onnx,tflite", int8=True, calib=str(calib),
                                calib_count=64, val_count=32, prune=None, data=None, epochs=0, parity=None,
                                out=args.out, seed=args.seed, version=args.version, source=None, width=1.0, clips=10,
                                weights=str(weights), training=training, metrics=metrics)
        result = export_model(export_args, selected_formats(export_args))
    print(format_table(result))
    print(json.dumps({"metrics": metrics, "held_out": held}, indent=2))
    failed = [a for a in result["artifacts"] if not a["parity"]["ok"]]
    for a in failed:   # a model that does not match its trained weights is not left among the shipped ones
        for name in (a["artifact"], a["manifest"]):
            (Path(args.out) / name).unlink(missing_ok=True)
        print(f"pianocam train: {a['artifact']} failed parity (top-1 agreement "
              f"{a['parity']['top1_agreement']:.3f}); removed", file=sys.stderr)
    return 0 if len(failed) < len(result["artifacts"]) else 1

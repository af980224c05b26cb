"""`pianocam train skill`: seed 004's PISA network on a set in PISA's layout, held out by PISA's split, exported.

Train on the train pickle's samples, score on the test pickle's (the split is by whole video; a video
on both sides is refused), then the export stage writes fp32 and int8 ONNX and checks each against the
trained torch model on held-out inputs. An artifact that fails parity is removed and said so.
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

from pianocam.export.networks import pisa
from pianocam.export.skill import layout, media

logger = logging.getLogger(__name__)

CALIBRATION = 32   # samples: the export stage's least for int8 calibration
PARITY = 16        # held-out samples at least for the parity check (test samples, topped up with windows)
LATENCY_RUNS = 10


class Videos:
    """The frames and sound of a PISA-layout folder, read once per video."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._files, self._audio = {}, {}

    def frames(self, video) -> list[Path]:
        if video not in self._files:
            self._files[video] = layout.frame_files(self.root, video)
        return self._files[video]

    def sample(self, video, indices: np.ndarray, framerate: float) -> tuple[np.ndarray, np.ndarray]:
        files = self.frames(video)
        if int(indices.max()) >= len(files):
            raise ValueError(f"--data {self.root}: video {video} has {len(files)} frames, its annotation asks "
                             f"for frame {int(indices.max())}")
        if video not in self._audio:
            self._audio[video] = media.read_wav(layout.audio_file(self.root, video))
        wav, sr = self._audio[video]
        return media.clips(files, indices), media.mels(wav, sr, indices, framerate)


def load(videos: Videos, table: dict) -> tuple[dict, np.ndarray, np.ndarray]:
    """Inputs {clips, mels}, labels (player level - 1) and each sample's video, in the table's order."""
    x, m, labels, owner = [], [], [], []
    for (video, _), s in table.items():
        c, a = videos.sample(video, np.asarray(s["frames"]), float(s["framerate"]))
        x.append(c)
        m.append(a)
        labels.append(int(s["player_level"]) - 1)
        owner.append(video)
    return {"clips": np.stack(x), "mels": np.stack(m)}, np.array(labels, np.int64), np.array(owner)


def windows(videos: Videos, table: dict, count: int, clips: int, seed: int) -> tuple[dict, np.ndarray]:
    """`count` samples of `clips` back-to-back clips at random starts in the table's videos (overlaps
    allowed): representative inputs for int8 calibration and parity when the table has too few samples."""
    rng = np.random.default_rng(seed)
    level = {k[0]: (int(s["player_level"]) - 1, float(s["framerate"])) for k, s in table.items()}
    chosen = sorted(level)
    x, m, labels = [], [], []
    for i in range(count):
        video = chosen[i % len(chosen)]
        span = clips * layout.CLIP
        start = int(rng.integers(0, len(videos.frames(video)) - span + 1))
        c, a = videos.sample(video, np.arange(start, start + span), level[video][1])
        x.append(c)
        m.append(a)
        labels.append(level[video][0])
    return {"clips": np.stack(x), "mels": np.stack(m)}, np.array(labels, np.int64)


def train(inputs: dict, labels: np.ndarray, width: float, epochs: int, seed: int, batch: int = 2,
          lr: float = 1e-3) -> tuple[nn.Module, list[dict]]:
    """Adam on the sum of the three heads' cross-entropies (the multimodal head reads detached features)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = pisa.build(width)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    history = []
    for epoch in range(epochs):
        model.train()
        order, total, began = rng.permutation(len(labels)), 0.0, time.perf_counter()
        for i in range(0, len(order), batch):
            index = np.sort(order[i:i + batch])
            if len(index) * inputs["mels"].shape[1] < 2:   # BatchNorm needs two mel images or more
                continue
            outs = model(torch.from_numpy(inputs["clips"][index]), torch.from_numpy(inputs["mels"][index]))
            target = torch.from_numpy(labels[index])
            loss = sum(nn.functional.cross_entropy(o, target) for o in outs)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(index)
        history.append({"epoch": epoch + 1, "loss": round(total / len(labels), 4),
                        "seconds": round(time.perf_counter() - began, 1)})
        logger.info("epoch %d: loss %.4f (%.0f s)", epoch + 1, history[-1]["loss"], history[-1]["seconds"])
    return model.eval(), history


def evaluate(model: nn.Module, inputs: dict, labels: np.ndarray, train_labels: np.ndarray) -> dict:
    """Held-out accuracy per head against two chances: the training set's commonest level, and one over
    the levels present."""
    from pianocam.export.formats import torch_outputs

    outs = torch_outputs(model, inputs, batch=2)
    commonest = int(np.bincount(train_labels).argmax())
    row = {name: round(float((o.argmax(1) == labels).mean()), 4) for name, o in zip(("video", "audio", "multimodal"),
                                                                                    outs)}
    return {"samples": int(len(labels)), "accuracy": row,
            "chance": {"commonest_training_level": round(float((labels == commonest).mean()), 4),
                       "uniform_over_levels": round(1 / len(np.unique(np.concatenate([labels, train_labels]))), 4)},
            "levels": sorted(int(v) + 1 for v in np.unique(labels))}


def _stand_in(root: Path) -> str:
    manifest = root / "MANIFEST.json"
    if manifest.is_file():
        return json.loads(manifest.read_text()).get("what", "")
    return "no MANIFEST.json: taken to be PISA's release (not made by pianocam.export.skill.generate)"


def run_training(args) -> int:
    from pianocam.export.export_command import export_model, format_table

    data = Path(args.data)
    train_table = layout.read_annotations(data, args.scheme, "train")
    test_table = layout.read_annotations(data, args.scheme, "test")
    layout.check_split(train_table, test_table, f"--data {data} ({args.scheme})")
    if not train_table or not test_table:
        raise ValueError(f"--data {data}: the {args.scheme} train or test pickle holds no samples")
    clips = {len(s["frames"]) // layout.CLIP for s in [*train_table.values(), *test_table.values()]}
    if len(clips) != 1:
        raise ValueError(f"--data {data}: samples of different lengths ({sorted(clips)} clips)")
    clips = clips.pop()
    videos = Videos(data)
    began = time.perf_counter()
    x_train, y_train, v_train = load(videos, train_table)
    x_test, y_test, v_test = load(videos, test_table)
    logger.info("loaded %d train / %d test samples of %d clips in %.0f s", len(y_train), len(y_test), clips,
                time.perf_counter() - began)
    model, history = train(x_train, y_train, args.width, args.epochs or 10, args.seed)
    held_out = evaluate(model, x_test, y_test, y_train)
    what = _stand_in(data)
    split = {"scheme": args.scheme, "by": "whole video (PISA's train / test pickles; none on both sides)",
             "train_videos": sorted(int(v) for v in set(v_train)), "test_videos": sorted(int(v) for v in set(v_test)),
             "train_samples": int(len(y_train)), "test_samples": int(len(y_test))}
    training = {"data": str(data), "data_is": what, "split": split, "epochs": history, "seed": args.seed,
                "optimiser": "Adam lr 1e-3, batch 2, sum of the three heads' cross-entropies",
                "width": args.width, "width_note": "channel widths scaled from the paper's (width 1.0) to fit "
                "this CPU", "clips_per_sample": clips, "threads": args.threads,
                "seconds": round(time.perf_counter() - began, 1), "command": getattr(args, "command_line", None)}
    metrics = {"held_out": held_out, "rendered": "rendered" in what.lower(),
               "note": "per-sample player-level accuracy on the test pickle's videos, none seen in training; "
                       f"data: {what}"}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    weights = out / "pisa.torch.pt"   # the trained weights: for re-export and for checking the artifacts
    torch.save(model.state_dict(), weights)
    with tempfile.TemporaryDirectory() as tmp:
        calib = Path(tmp) / "calib"
        calib.mkdir()
        c_inputs, _ = windows(videos, train_table, CALIBRATION, clips, args.seed)
        np.savez(calib / "calib.npz", **c_inputs)
        # Parity on held-out inputs: the test samples, topped up with windows of the test videos.
        p_inputs, p_labels = x_test, y_test
        if len(y_test) < PARITY:
            extra, extra_labels = windows(videos, test_table, PARITY - len(y_test), clips, args.seed + 1)
            p_inputs = {k: np.concatenate([x_test[k], extra[k]]) for k in x_test}
            p_labels = np.concatenate([y_test, extra_labels])
        export_args = Namespace(model="pisa", formats="onnx", int8=True, calib=str(calib), calib_count=CALIBRATION,
                                val_count=PARITY, latency_runs=LATENCY_RUNS, prune=None, data=None, epochs=0, parity=args.parity,
                                out=args.out, seed=args.seed, version=args.version, source=None, width=args.width,
                                clips=clips, weights=str(weights), training=training, metrics=metrics,
                                validation=(p_inputs, p_labels, f"{len(p_labels)} held-out inputs: the test "
                                            f"pickle's {len(y_test)} samples and windows of its videos"))
        result = export_model(export_args, ["onnx", "onnx-int8"])
    print(format_table(result))
    print(json.dumps({"held_out": held_out, "split": split, "data_is": what}, indent=2))
    failed = [a for a in result["artifacts"] if not a["parity"]["ok"]]
    for a in failed:   # a model that does not match its trained weights is not left where models ship
        for name in (a["artifact"], a["manifest"]):
            (Path(args.out) / name).unlink(missing_ok=True)
        print(f"pianocam train: {a['artifact']} failed parity (max abs diff {a['parity']['max_abs_diff']:.3g}, "
              f"top-1 agreement {a['parity']['top1_agreement']:.3f}); removed, not shipped", file=sys.stderr)
    return 1 if failed else 0

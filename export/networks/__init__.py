"""The models `pianocam export` knows: how to build each, its inputs and labels, and representative data for it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = ROOT.parent / "shared" / "data"


@dataclass
class ModelSpec:
    """One exportable model. build(seed, args) returns (torch model in eval mode, manifest fields it brings)."""

    name: str
    paper: str
    inputs: dict[str, tuple]                  # input name → shape without the batch axis
    outputs: tuple[str, ...]                  # softmax outputs, in graph order
    labels: tuple[str, ...]
    feature_schema: str
    normalisation: dict
    build: Callable
    representative: Callable                  # (count, seed, args) → dict of input arrays (N, *shape)
    labelled: Callable | None = None          # (data_dir, args) → (inputs dict, labels) for fine-tune and metrics
    calibration_note: str = ""
    extra: dict = field(default_factory=dict)


def _finger_action(variant: str, size: str = "small") -> ModelSpec:
    from pianocam.export.networks import finger_action as fa
    from pianocam.fingering.crops import SCHEMA as HAND_CROPS

    def build(seed: int, args):
        import torch

        torch.manual_seed(seed)
        model = fa.build(variant, size).eval()
        architecture = {"variant": variant, "size": size, **fa.describe(model)}
        if getattr(args, "weights", None):   # `pianocam train finger-action` hands its trained weights over
            model.load_state_dict(torch.load(args.weights, weights_only=True))
            return model.eval(), {"trained": True, "weights": "trained: pianocam train finger-action",
                                  "architecture": architecture, "training": args.training, "metrics": args.metrics}
        return model, {"trained": False, "weights": f"untrained: torch.manual_seed({seed}) initialisation; "
                       "architecture and export only, its outputs mean nothing yet", "architecture": architecture}

    def representative(count: int, seed: int, args):
        from pianocam.export.scene_crops import fingertip_clips

        return {"frames": fingertip_clips(count, seed)}

    name = "finger_action" if (variant, size) == ("both", "small") else f"finger_action-{variant}" + \
        ("" if size == "small" else f"-{size}")
    return ModelSpec(
        name=name, paper="seed 003 (CNN + SAM, 2-layer GRU + SEAM, FC 96)",
        inputs={"frames": (fa.FRAMES, 3, fa.SIZE, fa.SIZE)}, outputs=("probabilities",), labels=fa.LABELS,
        feature_schema=HAND_CROPS, normalisation=fa.NORMALISATION, build=build,
        representative=representative,
        calibration_note="rendered scenes (pianocam.scene, seed-derived): 12 consecutive 128×128 crops "
                         "centred on a hand's middle fingertip, both hands, windows every 6 frames")


def _pisa(clips: int = 10) -> ModelSpec:
    from pianocam.export.networks import pisa

    def build(seed: int, args):
        import torch

        torch.manual_seed(seed)
        model = pisa.build(getattr(args, "width", 1.0)).eval()
        architecture = {"width": getattr(args, "width", 1.0), "clips": getattr(args, "clips", 10)}
        if getattr(args, "weights", None):   # `pianocam train skill` hands its trained weights over
            model.load_state_dict(torch.load(args.weights, weights_only=True))
            return model.eval(), {"trained": True, "weights": "trained: pianocam train skill",
                                  "architecture": architecture, "training": args.training, "metrics": args.metrics}
        return model, {"trained": False, "weights": f"untrained: torch.manual_seed({seed}) initialisation",
                       "architecture": architecture}

    def representative(count: int, seed: int, args):
        from pianocam.export.synthetic import mel_images, video_clips

        k = getattr(args, "clips", clips)
        return {"clips": video_clips(count, k, seed), "mels": mel_images(count, k, seed)}

    return ModelSpec(
        name="pisa", paper="seed 004 (3D CNN C64-C128-C256-C256-C256 + ResNet-18 mel, 128-d heads, multimodal)",
        inputs={"clips": (clips, 3, pisa.CLIP_FRAMES, pisa.CLIP_SIZE, pisa.CLIP_SIZE),
                "mels": (clips, 1, pisa.MEL_SIZE, pisa.MEL_SIZE)},
        outputs=("video", "audio", "multimodal"), labels=pisa.LEVELS, feature_schema="pisa-clips-v1/16x112+mel224",
        normalisation={"clips": "frames resized to 171×128, centre crop 112×112, RGB / 255, then (x - 0.5) / 0.5",
                       "mels": "per clip: power mel (n_fft 2048, hop 512, 128 Slaney mels, fmin 20, fmax 8300), "
                       "power_to_db (top_db 80), standardised, stretched to uint8 0-255, resized to 224×224, "
                       "/ 255 then (x - 0.5) / 0.5 (pianocam.export.skill.media, as PISA's loader)"},
        build=build, representative=representative,
        calibration_note="synthetic: smooth moving blobs as clips, harmonic stacks as mel images (no PISA media here)")


def _technique() -> ModelSpec:
    from pianocam.export.technique import source as ts

    return ModelSpec(
        name="technique", paper="seed 000 (technique: beginner vs advanced)", inputs={"features": ts.SHAPE},
        outputs=("probabilities",), labels=ts.LABELS, feature_schema=ts.SCHEMA, normalisation={},
        build=ts.build, representative=ts.representative, labelled=ts.labelled,
        calibration_note="seed-000 landmark windows (../shared/data/seed000-landmarks), featurised and standardised "
                         "as the shipped model was trained")


def spec(name: str, clips: int = 10) -> ModelSpec:
    """The spec for a model name (clips: PISA's clips per sample); raises ValueError listing the known names."""
    table = {"finger_action": lambda: _finger_action("both"),
             "finger_action-base": lambda: _finger_action("base"),
             "finger_action-sam": lambda: _finger_action("sam"),
             "finger_action-seam": lambda: _finger_action("seam"),
             "finger_action-wide": lambda: _finger_action("both", "wide"),
             "pisa": lambda: _pisa(clips), "technique": _technique}
    if name not in table:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(table)}")
    return table[name]()


MODEL_NAMES = ("finger_action", "finger_action-base", "finger_action-sam", "finger_action-seam",
               "finger_action-wide", "pisa", "technique")


def as_batches(arrays: dict[str, np.ndarray], size: int = 1):
    n = len(next(iter(arrays.values())))
    for i in range(0, n, size):
        yield {k: v[i:i + size] for k, v in arrays.items()}

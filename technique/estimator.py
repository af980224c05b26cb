"""Live technique estimate: rolling 20-frame windows per hand → the shipped model → `technique` message bodies."""
from __future__ import annotations

import logging
from collections import deque
from pathlib import Path

import numpy as np

from pianocam.models import shipped
from pianocam.models.runtime import ManifestError, load_model, manifest_path
from pianocam.technique.features import FEATURISERS, standardise

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = shipped("technique")


class TechniqueEstimator:
    """Keeps the last `window` frames of each hand and classifies them every `stride` frames.

    A hand missing for more than `max_gap` frames starts its window again: a window must be one
    continuous stretch of playing, as the training sequences were.
    """

    def __init__(self, model_dir: str | Path = DEFAULT_MODEL_DIR, precision: str = "int8", stride: int = 10,
                 max_gap: int = 2, threads: int = 1, fmt: str = "onnx"):
        manifest_file = manifest_path(model_dir, "technique", precision, fmt)
        manifest = _peek(manifest_file)
        features = manifest.get("features")
        name = features.get("featuriser") if isinstance(features, dict) else None
        if name not in FEATURISERS:
            raise ManifestError(f"{manifest_file.name}: unknown featuriser {name!r}; this unit has {sorted(FEATURISERS)}")
        self.featuriser = FEATURISERS[name]
        # ONNX through onnxruntime or TFLite through LiteRT: the manifest says which.
        self.model = load_model(manifest_file, self.featuriser.schema, self.featuriser.shape, threads)
        self.labels = list(self.model.manifest["labels"])
        norm = self.model.manifest["normalisation"]
        self.mean, self.std = np.asarray(norm["mean"], np.float32), np.asarray(norm["std"], np.float32)
        self.window = int(self.model.manifest["features"]["window"])
        self.stride = stride
        self.max_gap = max_gap
        self._frames: dict[str, deque] = {}
        self._since: dict[str, int] = {}

    def update(self, hands) -> list[dict]:
        """Add one frame's Hands; returns a technique body for every hand whose window just became due."""
        bodies = []
        for hand in hands.hands:
            frames = self._frames.setdefault(hand.side, deque(maxlen=self.window))
            if frames and hands.frame_index - frames[-1][0] > self.max_gap + 1:
                frames.clear()
            # Pixels, not MediaPipe's 0..1: x and y on one scale whatever the frame's aspect.
            frames.append((hands.frame_index, hands.t, np.asarray(hand.landmarks, dtype=np.float64)))
            self._since[hand.side] = self._since.get(hand.side, self.stride) + 1
            if len(frames) == self.window and self._since[hand.side] >= self.stride:
                self._since[hand.side] = 0
                bodies.append(self._classify(hand.side, frames))
        return bodies

    def _classify(self, side: str, frames: deque) -> dict:
        window = np.stack([f[2] for f in frames])
        x = standardise(self.featuriser.window(window), self.mean, self.std)[None]
        probabilities = self.model.run(x)[0]
        best = int(np.argmax(probabilities))
        return {
            "hand": side,
            "label": self.labels[best],
            "confidence": float(probabilities[best]),
            "probabilities": {label: float(p) for label, p in zip(self.labels, probabilities)},
            "window": {"frames": len(frames), "first_frame": frames[0][0], "last_frame": frames[-1][0],
                       "t_start": float(frames[0][1]), "t_end": float(frames[-1][1])},
            "model": {"name": self.model.manifest.get("model"), "version": self.model.manifest.get("version"),
                      "precision": self.model.manifest.get("precision")},
        }


def _peek(manifest_path: Path) -> dict:
    import json

    if not manifest_path.is_file():
        raise ManifestError(f"technique model manifest {manifest_path} not found (train one with "
                            f"`pianocam train technique`, see models/technique/README.md)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError) as err:  # not JSON, not UTF-8, unreadable
        raise ManifestError(f"technique model manifest {manifest_path}: cannot be read as JSON ({err})") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"technique model manifest {manifest_path}: a JSON {type(manifest).__name__}, "
                            f"not an object")
    return manifest

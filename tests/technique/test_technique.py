"""TechniqueEstimator on real seed-000 recordings fed as the unit would feed them: pixel landmarks, frame by frame."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pianocam.hands.tracker import Hand, Hands
from pianocam.models.runtime import ManifestError
from pianocam.technique.estimator import TechniqueEstimator

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "technique"
WIDTH, HEIGHT = 640, 480


def _sequences(shared_data, name: str, count: int) -> np.ndarray:
    with open(shared_data / "seed000-landmarks" / name, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return np.array([[float(v) for v in r[:63]] for r in rows[: count * 20]]).reshape(count * 20, 21, 3)


def _hands(frame_index: int, normalized: dict[str, np.ndarray]) -> Hands:
    # As HandTracker builds them: pixels = normalised × (width, height, width).
    scale = np.array([WIDTH, HEIGHT, WIDTH], np.float32)
    hands = [Hand(side, 0.9, (n * scale).astype(np.float32), n.astype(np.float32)) for side, n in normalized.items()]
    return Hands(frame_index, frame_index / 30, WIDTH, HEIGHT, hands)


def test_emits_technique_bodies_per_hand_every_stride(shared_data):
    estimator = TechniqueEstimator(MODEL_DIR, stride=10)
    left = _sequences(shared_data, "kps_beg_holdout.csv", 3)
    right = _sequences(shared_data, "kps_adv_holdout.csv", 3)
    bodies = []
    for i in range(60):
        bodies += estimator.update(_hands(i, {"left": left[i], "right": right[i]}))
    # Windows complete at frame 19, then every 10 frames: 19, 29, 39, 49, 59 → 5 per hand.
    assert sorted(b["hand"] for b in bodies) == ["left"] * 5 + ["right"] * 5
    body = bodies[0]
    assert body["label"] in ("beginner", "advanced")
    assert set(body["probabilities"]) == {"beginner", "advanced"}
    assert sum(body["probabilities"].values()) == pytest.approx(1, abs=1e-3)
    assert body["window"]["frames"] == 20 and body["window"]["last_frame"] == 19 and body["window"]["first_frame"] == 0
    assert body["model"]["precision"] == "int8"
    json.dumps(body)


def test_unit_agrees_with_the_model_on_recorded_windows(shared_data):
    # Fed as pixels frame by frame, the unit must compute what the model saw in training (0..1 CSV values).
    from pianocam.technique.features import standardise

    estimator = TechniqueEstimator(MODEL_DIR, precision="fp32", stride=20)
    seq = _sequences(shared_data, "kps_adv_holdout.csv", 2)
    square = np.array([WIDTH, WIDTH, WIDTH])  # an isotropic camera: the CSV's aspect is unknown
    bodies = []
    for i in range(40):
        n = seq[i]
        hands = Hands(i, i / 30, WIDTH, HEIGHT, [Hand("right", 0.9, (n * square).astype(np.float32), n)])
        bodies += estimator.update(hands)
    assert len(bodies) == 2
    f = estimator.featuriser
    direct = estimator.model.run(np.stack([standardise(f.window(seq[k * 20:(k + 1) * 20]), estimator.mean,
                                                       estimator.std) for k in range(2)]))
    for body, p in zip(bodies, direct):
        assert body["probabilities"]["advanced"] == pytest.approx(float(p[1]), abs=1e-3)


def test_a_gap_restarts_the_window(shared_data):
    estimator = TechniqueEstimator(MODEL_DIR, stride=5)
    seq = _sequences(shared_data, "kps_beg_holdout.csv", 3)
    frames = list(range(15)) + list(range(25, 45))   # the hand is lost for 10 frames
    emitted = [i for i in frames if estimator.update(_hands(i, {"left": seq[i]}))]
    assert emitted[0] == 44  # 20 frames after the gap, not at frame 19


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestError, match="pianocam train technique"):
        TechniqueEstimator(tmp_path)

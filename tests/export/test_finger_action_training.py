"""Training seed 003's network on collected clips: it learns which finger moved, holds out whole recordings,
refuses an empty folder; the shipped model says what it was trained on and how it scored."""
import json
from pathlib import Path

import numpy as np
import pytest

from pianocam.export.finger_action.train import load, scores, train

ROOT = Path(__file__).resolve().parents[2]


def recording(folder: Path, name: str, notes: int, seed: int) -> None:
    """Clips in `pianocam collect`'s format: per note, the pressing fingertip's clip (a dark bar, the finger,
    comes down into the crop in its last frames; its size tells the finger) and two neighbours' (nothing
    moves). Labels and truth agree."""
    rng = np.random.default_rng(seed)
    frames, labels, note = [], [], []
    for n in range(notes):
        finger = int(rng.integers(1, 6))
        for label in (finger, 0, 0):
            clip = np.full((12, 128, 128, 3), 200, np.uint8) + rng.integers(0, 20, (12, 128, 128, 3), dtype=np.uint8)
            if label:
                width = 10 + 8 * finger
                clip[7:, 30:110, 64 - width // 2:64 + width // 2] = 40
            frames.append(clip)
            labels.append(label)
            note.append(n)
    labels = np.array(labels)
    np.savez_compressed(folder / f"{name}.npz", frames=np.array(frames), labels=labels, truth=labels,
                        note=np.array(note))
    (folder / f"{name}.json").write_text(json.dumps({"name": name, "group": name, "positives": notes,
                                                     "negatives": 2 * notes, "notes": "midi"}))


def test_the_network_learns_which_finger_moved_on_held_out_recordings(tmp_path):
    for i in range(3):
        recording(tmp_path, f"scene-{i}", 12, i)
    sets = load(tmp_path)
    model, history, held, trained_on = train(sets, ["scene-2"], epochs=3, seed=0)
    assert set(trained_on) == {"scene-0", "scene-1"} and set(held) == {"scene-2"}
    assert history[-1]["loss"] < history[0]["loss"]
    assert held["scene-2"]["finger_accuracy"] >= 0.8 and held["scene-2"]["real"] is False, held


def test_a_note_is_right_when_its_pressing_fingertip_looks_likeliest_to_have_struck():
    p = np.array([[0.2, 0.1, 0.6, 0.05, 0.03, 0.02],    # note 0, the pressing fingertip (2): struck 0.8
                  [0.9, 0.02, 0.05, 0.01, 0.01, 0.01],  # note 0, a neighbour: struck 0.1
                  [0.5, 0.5, 0.0, 0.0, 0.0, 0.0],       # note 1, the pressing fingertip (1): struck 0.5
                  [0.3, 0.1, 0.6, 0.0, 0.0, 0.0],       # note 1, a neighbour: struck 0.7 -> wrong
                  [0.1, 0.9, 0.0, 0.0, 0.0, 0.0]])      # a quiet moment, truth unknown
    s = scores(p, np.array([2, 0, 1, 0, -1]), np.array([0, 0, 1, 1, -1]))
    assert s == {"notes": 2, "finger_accuracy": 0.5, "clips": 4, "six_way_accuracy": 0.5}


def test_an_empty_folder_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pianocam collect"):
        load(tmp_path)


def test_shipped_model_is_trained_and_reports_held_out_accuracy():
    manifest = json.loads((ROOT / "models/finger_action/finger_action.fp32.json").read_text())
    assert manifest["trained"] is True and manifest["features"]["schema"] == "fingertip-crops-v2/12x128"
    metrics = manifest["metrics"]
    assert metrics["held_out_rendered"]["notes"] > 0 and 0 <= metrics["held_out_rendered"]["finger_accuracy"] <= 1
    assert metrics["real_notes"]["notes"] > 0
    assert not set(metrics["held_out_rendered"]["recordings"]) & set(manifest["training"]["trained_on"])
    tflite = json.loads((ROOT / "models/finger_action/finger_action.fp32.tflite.json").read_text())
    assert manifest["parity"]["ok"] and tflite["parity"]["ok"] and tflite["metrics"] == metrics
    # An artifact that failed parity is not left among the shipped ones (the int8 pair did).
    for artifact in (ROOT / "models/finger_action").glob("*.json"):
        assert json.loads(artifact.read_text())["parity"]["ok"], artifact.name

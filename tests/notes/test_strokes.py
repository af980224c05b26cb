"""Vision-only notes from fingertip strokes: constructed hands, and the real Ode to Joy close-up against its labels
(the command's default, strokes with key motion)."""
import json
from pathlib import Path

import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap, key_span
from pianocam.hands.tracker import Hand, Hands
from pianocam.notes.evaluate import match_notes, score_notes
from pianocam.notes.strokes import KNUCKLES, PADS, TIPS, StrokeDetector, merge_notes

ROOT = Path(__file__).resolve().parents[2]
CLIP = ROOT.parent / "shared/data/real/clips/esnylmz-ode-to-joy-right-hand.mp4"
SCALE, SHIFT = 0.5, np.array([-3000.0, 100.0])   # image = plane mm * SCALE + SHIFT


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[SCALE, 0, SHIFT[0]], [0, SCALE, SHIFT[1]], [0, 0, 1]])
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def hand_at(reach: dict[int, float], shift_y: float = 0.0) -> Hand:
    """A right hand over C4..G4 (white keys), fingertips `reach` mm beyond their knuckles towards the player."""
    points = np.zeros((21, 3), np.float32)
    for finger, midi in zip(range(1, 6), (60, 62, 64, 65, 67)):
        x = sum(key_span(midi)) / 2
        knuckle = np.array([x, 60.0 + shift_y])
        tip = knuckle + [0, 60.0 + reach.get(finger, 0.0)]
        points[KNUCKLES[finger - 1], :2] = knuckle * SCALE + SHIFT
        points[TIPS[finger - 1], :2] = tip * SCALE + SHIFT
        points[PADS[finger - 1], :2] = (tip - [0, 8]) * SCALE + SHIFT
    return Hand("right", 0.9, points, points / [1280, 400, 1280])


def play(keymap, poses) -> list:
    detector = StrokeDetector(keymap)
    notes = []
    for i, pose in enumerate(poses):
        notes += detector.update(Hands(i, i / 30, 1280, 400, [pose]), i / 30)
    return notes


def test_a_finger_curling_into_its_key_is_a_note(keymap):
    poses = [hand_at({})] * 5 + [hand_at({3: 2.5}), hand_at({3: 5.0})] + [hand_at({3: 5.0})] * 5
    notes = play(keymap, poses)
    assert [n.pitch for n in notes] == [64] and notes[0].source == "vision"
    assert abs(notes[0].onset - (6 / 30 + 0.06)) < 1e-6  # timed where the rise ends, plus the lead to the sound


def test_a_flick_or_the_whole_hand_moving_is_no_note(keymap):
    flick = [hand_at({})] * 5 + [hand_at({2: 2.5}), hand_at({2: 5.0}), hand_at({2: 0.5})] + [hand_at({})] * 4
    whole_hand = [hand_at({}, shift_y=s) for s in (0, 0, 0, 0, 0, 3, 6, 6, 6, 6, 6, 6)]
    assert play(keymap, flick) == [] and play(keymap, whole_hand) == []


def test_merge_keeps_one_note_per_key_and_moment(keymap):
    a = play(keymap, [hand_at({})] * 5 + [hand_at({3: 2.5}), hand_at({3: 5.0})] + [hand_at({3: 5.0})] * 5)
    later = [type(a[0])(a[0].pitch, a[0].onset + 0.05, None, 64, "vision", 0.5),
             type(a[0])(60, a[0].onset, None, 64, "vision", 0.5)]
    assert [(n.pitch) for n in merge_notes(a, later)] == [60, 64]


@pytest.mark.skipif(not CLIP.exists(), reason="../shared/data (the real clips) is not here")
def test_vision_only_fingering_of_the_real_close_up(capsys):
    from pianocam.commands.cli import main

    labels = json.loads((ROOT / "tests/fingering/fingering_real.json").read_text())
    notes = next(c for c in labels["clips"] if c["file"].endswith(CLIP.name))["notes"]
    assert main(["fingering", "--video", str(CLIP), "--vision", "--first-c", "C4", "--json"]) == 0
    captured = capsys.readouterr()
    assert "notes from the camera alone" in captured.err and "(motion)" in captured.err
    seen = [json.loads(line) for line in captured.out.splitlines()]
    assert seen and all(n["source"] == "vision" for n in seen)
    truth = [(n["midi"], n["onset_s"]) for n in notes]
    s = score_notes(truth, [(n["pitch"], n["onset"]) for n in seen], 0.1)
    # Measured (benchmarks/fingering_real.py), strokes and key motion: 22/30 found, 26 seen, F1 0.79 (set on this
    # clip); fingertip strokes alone, the default before: F1 0.71 against these labels; the keys' darkening: 0.15.
    assert s.f1 >= 0.77, s
    pairs = match_notes(truth, [(n["pitch"], n["onset"]) for n in seen], 0.1)
    right = sum(seen[j]["finger"] == notes[i]["finger"] and seen[j]["hand"] == "right" for i, j in pairs)
    assert right >= 0.9 * len(pairs), (right, len(pairs))

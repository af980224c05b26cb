"""Fingers on the real partial-keyboard clip (a left hand, hand-held camera) against its labels made by eye."""
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from pianocam.calibration.keymap import WHITE_KEY_WIDTH, KeyMap, apply_homography
from pianocam.fingering import assign_fingers
from pianocam.hands.tracker import HandTracker
from pianocam.notes import NoteEvent
from pianocam.sources.video import VideoFileSource

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "benchmarks"))
from camera_motion import camera_motion, in_reference  # noqa: E402  (the benchmark's registration)

CLIP = "jackier42-partial-keyboard-one-hand"


@pytest.fixture(scope="module")
def partial_clip(shared_data):
    path = shared_data / "real" / "clips" / f"{CLIP}.mp4"
    if not path.exists():
        pytest.skip(f"real clip not here: {path}")
    images, frames = [], []   # the key map was marked on frame 0
    with VideoFileSource(str(path), realtime=False) as source, \
            HandTracker(model_complexity=1, min_detection_confidence=0.2) as tracker:
        while (frame := source.read()) is not None:
            images.append(frame.image)
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    labels = next(c for c in json.loads((HERE / "fingering_real.json").read_text())["clips"] if CLIP in c["file"])
    homographies, correlations = camera_motion(images)
    return homographies, correlations, frames, KeyMap.load(HERE / "keymaps" / f"{CLIP}.json"), labels["notes"]


def right_notes(labelled, frames, keymap) -> int:
    notes = [NoteEvent(n["midi"], n["onset_s"], None, 64, "labels") for n in labelled]
    decided = {(f.note.pitch, f.note.onset): f for f in assign_fingers(notes, frames, keymap)}
    return sum(decided[(n["midi"], n["onset_s"])].hand == n["hand"]
               and decided[(n["midi"], n["onset_s"])].finger == n["finger"] for n in labelled)


def test_the_hand_held_camera_moves_the_keys_under_a_fixed_key_map(partial_clip):
    homographies, correlations, _, keymap, _ = partial_clip
    assert min(correlations) > 0.95
    g3 = np.array([keymap.key(55).center])
    moved = keymap.to_plane(apply_homography(homographies[138], g3))[0, 0] - keymap.to_plane(g3)[0, 0]
    # Measured: 0.69 white keys to the left at the thumb's G3 (frame 138): a fixed map names F3 there.
    assert -0.9 < moved / WHITE_KEY_WIDTH < -0.5


def test_the_key_map_carried_along_the_camera_gives_the_labelled_fingers(partial_clip):
    homographies, _, frames, keymap, labelled = partial_clip
    # Measured (benchmarks/fingering_real.py --detection 0.2): 9 of 10 carried along, 4 of 10 with the
    # frame-0 map for every frame. The one left is the note its labeller was unsure of (middle or ring on D3).
    assert right_notes(labelled, in_reference(frames, homographies), keymap) >= 9

"""Finger assignment on constructed hands: evidence, anatomy decoding, chords, unknowns, live = offline."""
import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap
from pianocam.fingering import FingerAssigner, assign_fingers
from pianocam.fingering.assign import estimate_clock_offset
from pianocam.fingering.evidence import fingertip_distances
from pianocam.hands.tracker import FINGERTIPS, Hand, Hands
from pianocam.notes import NoteEvent

SCALE = 0.5  # image pixels per millimetre
SHIFT = np.array([-3000.0, 100.0])  # image = plane * SCALE + SHIFT (puts C3..C6 in view)


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[SCALE, 0, SHIFT[0]], [0, SCALE, SHIFT[1]], [0, 0, 1]])
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def hand(side, tips: dict[int, tuple[float, float]], wrist=(0.0, 380.0)) -> Hand:
    points = np.zeros((21, 3), np.float32)
    points[:, :2] = wrist
    for finger, xy in tips.items():
        points[FINGERTIPS[finger], :2] = xy
    return Hand(side, 0.95, points, points / [1280, 400, 1280])


def on_key(keymap, midi):
    return tuple(keymap.key(midi).center)


def resting_right_hand(keymap, first_finger_midi, fingers=(1, 2, 3, 4, 5)):
    """Fingertips over consecutive white keys starting at first_finger_midi."""
    whites = [m for m in range(first_finger_midi, first_finger_midi + 12) if m % 12 in (0, 2, 4, 5, 7, 9, 11)]
    return {f: on_key(keymap, m) for f, m in zip(fingers, whites)}


def frames_for(keymap, plan, fps=30.0, seconds=4.0, side="right", jitter=None):
    """plan: list of (start_t, {finger: (x, y)}) — the hand holds each pose until the next."""
    frames = []
    for i in range(int(seconds * fps)):
        t = i / fps
        tips = [tips for start, tips in plan if start <= t][-1]
        if jitter:
            tips = jitter(i, dict(tips))
        frames.append(Hands(i, t, 1280, 400, [hand(side, tips)]))
    return frames


def test_distance_is_in_white_key_widths(keymap):
    tips = {1: on_key(keymap, 60), 2: on_key(keymap, 62), 3: on_key(keymap, 64)}
    d = fingertip_distances(Hands(0, 0, 1280, 400, [hand("right", tips)]), keymap, 62)
    assert d[1, 1] == pytest.approx(0.0, abs=1e-6)
    assert d[1, 0] == pytest.approx(1.0, abs=0.01) and d[1, 2] == pytest.approx(1.0, abs=0.01)
    assert np.isinf(d[0]).all()  # no left hand in view


def test_five_finger_scale_is_read_exactly(keymap):
    pose = resting_right_hand(keymap, 60)
    frames = frames_for(keymap, [(0, pose)])
    notes = [NoteEvent(p, 0.5 + 0.4 * i, None, 80, "midi") for i, p in enumerate((60, 62, 64, 65, 67))]
    result = assign_fingers(notes, frames, keymap)
    assert [(r.hand, r.finger) for r in result] == [("right", f) for f in (1, 2, 3, 4, 5)]
    assert all(r.confidence > 0.8 for r in result)  # neighbours one key away keep some weight


def test_one_ambiguous_frame_cannot_flip_a_finger(keymap):
    pose = resting_right_hand(keymap, 60)
    ambiguous = dict(pose)
    # Around E4's onset fingers 2 and 3 both hover half a key from it.
    ambiguous[2] = (on_key(keymap, 64)[0] - 0.52 * 23.5 * SCALE, pose[2][1])
    ambiguous[3] = (on_key(keymap, 64)[0] + 0.5 * 23.5 * SCALE, pose[3][1])
    frames = frames_for(keymap, [(0, pose), (1.28, ambiguous), (1.4, pose)])
    notes = [NoteEvent(p, 0.5 + 0.4 * i, None, 80, "midi") for i, p in enumerate((60, 62, 64, 65, 67))]
    notes[2].onset = 1.3
    result = assign_fingers(notes, frames, keymap)
    assert [r.finger for r in result] == [1, 2, 3, 4, 5]


def test_chord_takes_one_finger_per_key_in_order(keymap):
    pose = {1: on_key(keymap, 60), 3: on_key(keymap, 64), 5: on_key(keymap, 67),
            2: (on_key(keymap, 62)[0], 300.0), 4: (on_key(keymap, 65)[0], 300.0)}
    frames = frames_for(keymap, [(0, pose)])
    chord = [NoteEvent(p, 1.0, None, 80, "midi") for p in (60, 64, 67)]
    assert [r.finger for r in assign_fingers(chord, frames, keymap)] == [1, 3, 5]


def test_no_fingertip_near_the_key_is_unknown_not_a_guess(keymap):
    frames = frames_for(keymap, [(0, resting_right_hand(keymap, 60))])
    far = assign_fingers([NoteEvent(79, 1.0, None, 80, "midi")], frames, keymap)[0]
    assert far.hand is None and far.finger is None and far.confidence == 0.0
    unseen = assign_fingers([NoteEvent(30, 1.0, None, 80, "midi")], frames, keymap)[0]  # key off the map
    assert unseen.finger is None
    assert far.to_message()["finger"] is None and far.to_message()["name"] == "G5"


def test_live_decoding_agrees_with_offline_on_a_clean_scale(keymap):
    pose = resting_right_hand(keymap, 60)
    frames = frames_for(keymap, [(0, pose)])
    notes = [NoteEvent(p, 0.5 + 0.4 * i, None, 80, "midi") for i, p in enumerate((60, 62, 64, 65, 67))]
    live = FingerAssigner(keymap)
    decided = live.add_notes(list(notes))
    for frame in frames:
        decided += live.add_frame(frame)
    decided += live.flush()
    offline = assign_fingers(notes, frames, keymap)
    assert [(d.note.pitch, d.finger) for d in decided] == [(o.note.pitch, o.finger) for o in offline]


def test_clock_offset_is_recovered(keymap):
    # The hand presses five keys, each from its onset (frame time 0.5 i + 0.25) for 0.2 s, and
    # is lifted away in between; the note clock runs 0.3 s ahead of the frames.
    away = {f: (640.0, 390.0) for f in range(1, 6)}
    plan = [(0.0, away)]
    for i, start in enumerate((48, 55, 60, 67, 72)):
        plan += [(0.5 * i + 0.25, resting_right_hand(keymap, start)), (0.5 * i + 0.45, away)]
    frames = frames_for(keymap, plan, seconds=3.0)
    notes = [NoteEvent(pitch, 0.5 * i + 0.25 + 0.3, None, 80, "midi")
             for i, pitch in enumerate((48, 55, 60, 67, 72))]
    assert estimate_clock_offset(notes, frames, keymap) == pytest.approx(0.3, abs=0.05)

"""Fingers in a piano duet: two players' four hands, two of each side; each note goes to the nearer one."""
import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap
from pianocam.fingering import FingerAssigner, assign_fingers
from pianocam.fingering.evidence import fingertip_distances
from pianocam.hands.tracker import FINGERTIPS, Hand, Hands
from pianocam.notes import NoteEvent

SCALE = 0.5  # image pixels per millimetre
SHIFT = np.array([-3000.0, 100.0])  # image = plane * SCALE + SHIFT (puts C3..C6 in view)
WHITE = (0, 2, 4, 5, 7, 9, 11)


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[SCALE, 0, SHIFT[0]], [0, SCALE, SHIFT[1]], [0, 0, 1]])
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def hand(keymap, side: str, lowest: int) -> Hand:
    """A hand at rest over five white keys from `lowest`: thumb on the lowest (right) or highest (left)."""
    whites = [m for m in range(lowest, lowest + 12) if m % 12 in WHITE][:5]
    keys = whites if side == "right" else whites[::-1]
    points = np.zeros((21, 3), np.float32)
    points[:, :2] = (np.mean([keymap.key(m).center for m in whites], axis=0)[0], 380.0)
    for finger, midi in zip(range(1, 6), keys):
        points[FINGERTIPS[finger], :2] = keymap.key(midi).center
    return Hand(side, 0.95, points, points / [1280, 400, 1280])


def duet(keymap) -> list[Hands]:
    """Primo (upper half) and secondo (lower half), each with both hands; the secondo's listed last."""
    four = [hand(keymap, "left", 65), hand(keymap, "right", 74),   # primo: F4..C5, D5..A5
            hand(keymap, "left", 48), hand(keymap, "right", 57)]   # secondo: C3..G3, A3..E4
    return [Hands(i, i / 30, 1280, 400, four) for i in range(60)]


def test_of_two_right_hands_the_one_over_the_key_gives_the_distances(keymap):
    d = fingertip_distances(duet(keymap)[0], keymap, 74)   # D5: the primo's right thumb
    assert d[1, 0] == pytest.approx(0.0, abs=1e-6)


def test_each_players_notes_get_the_finger_over_them_offline_and_live(keymap):
    # The primo's right thumb on D5 and little finger on A5, the secondo's right thumb on A3, the secondo's
    # left little finger on C3, the primo's left thumb on C5 and little finger on F4.
    played = [(74, "right", 1), (57, "right", 1), (81, "right", 5), (48, "left", 5), (72, "left", 1), (65, "left", 5)]
    notes = [NoteEvent(midi, 0.2 + 0.25 * i, 0.4 + 0.25 * i, 80, "midi") for i, (midi, _, _) in enumerate(played)]
    frames = duet(keymap)
    offline = assign_fingers(notes, frames, keymap)
    live = FingerAssigner(keymap)
    for note in notes:
        live.add_notes([note])
    decided = [f for h in frames for f in live.add_frame(h)] + live.flush()
    for got in (offline, decided):
        assert [(f.note.pitch, f.hand, f.finger) for f in sorted(got, key=lambda f: f.note.onset)] == played

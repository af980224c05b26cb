"""Vision-only notes from strokes and key motion together: the pure scoring on constructed data."""
import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap, key_span
from pianocam.notes.presses import find_presses, forward_filled, key_motion_z, median_filtered
from pianocam.notes.strokes import KNUCKLES, PADS, TIPS

FPS = 30.0


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[0.5, 0, -3000.0], [0, 0.5, 100.0], [0, 0, 1]])
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def right_hand(frames: int, rng, reach: dict[int, dict[int, float]] | None = None, jump: dict[int, float] | None = None):
    """(frames, 21, 2) plane landmarks of a right hand over C4..G4 with 0.3 mm tracker noise; reach[finger][frame]
    mm added to that fingertip from that frame on; jump[frame] mm added to the whole hand in that frame only."""
    plane = np.zeros((frames, 21, 2))
    for finger, midi in zip(range(1, 6), (60, 62, 64, 65, 67)):
        x = sum(key_span(midi)) / 2
        plane[:, KNUCKLES[finger - 1]] = (x, 40.0)
        plane[:, TIPS[finger - 1]] = (x, 100.0)
        plane[:, PADS[finger - 1]] = (x, 92.0)
        for start, mm in (reach or {}).get(finger, {}).items():
            plane[start:, TIPS[finger - 1], 1] += mm
            plane[start:, PADS[finger - 1], 1] += mm
    for frame, mm in (jump or {}).items():
        plane[frame, :, 1] += mm
    return plane + rng.normal(0, 0.3, plane.shape)


def levels_of(frames: int, rng, midis: list[int], steps: dict[int, tuple[int, float]]) -> np.ndarray:
    """(frames, keys) band levels at 120 with noise 0.5; steps[midi] = (frame, change) from that frame on."""
    levels = 120.0 + rng.normal(0, 0.5, (frames, len(midis)))
    for midi, (frame, change) in steps.items():
        levels[frame:, midis.index(midi)] += change
    return levels


def test_a_key_moving_away_from_rest_counts_and_coming_back_does_not():
    levels = np.full((40, 1), 100.0)
    levels[10:20] = 110.0          # pressed at frame 10, released at 20
    z = key_motion_z(levels)
    assert z[10:12, 0].max() > 5 and z[20:22, 0].max() == 0


def test_a_hidden_key_keeps_its_last_level():
    assert forward_filled(np.array([[1.0], [np.nan], [np.nan], [3.0]]))[:, 0].tolist() == [1.0, 1.0, 1.0, 3.0]


def test_a_fingertip_rising_while_its_key_moves_is_one_note_on_that_key(keymap):
    rng = np.random.default_rng(3)
    midis = [60, 62, 64, 65, 67]
    planes = {"right": right_hand(90, rng, reach={3: {45: 6.0}})}
    levels = levels_of(90, rng, midis, {64: (46, 8.0)})
    notes = find_presses(np.arange(90) / FPS, planes, levels, midis, keymap)
    assert [n.pitch for n in notes] == [64] and abs(notes[0].onset - 45 / FPS) < 0.1


def test_a_one_frame_tracker_jump_of_the_whole_hand_is_no_note(keymap):
    rng = np.random.default_rng(4)
    midis = [60, 62, 64, 65, 67]
    planes = {"right": right_hand(90, rng, jump={50: 15.0})}
    assert find_presses(np.arange(90) / FPS, planes, levels_of(90, rng, midis, {}), midis, keymap) == []
    # Without the running median the same jump is a stroke of every finger at once.
    assert median_filtered(planes["right"])[50, TIPS[2], 1] < planes["right"][50, TIPS[2], 1] - 10


def test_two_keys_moving_together_under_two_fingers_are_a_chord(keymap):
    rng = np.random.default_rng(5)
    midis = [60, 62, 64, 65, 67]
    planes = {"right": right_hand(90, rng, reach={1: {40: 4.0}, 5: {40: 4.0}})}
    levels = levels_of(90, rng, midis, {60: (41, -8.0), 67: (41, -8.0)})
    assert sorted(n.pitch for n in find_presses(np.arange(90) / FPS, planes, levels, midis, keymap)) == [60, 67]


def test_the_key_band_is_sampled_where_a_moving_camera_now_shows_it():
    from pianocam.notes.key_motion import KeyBandLevels, band_points

    to_image = np.array([[1.5, 0, -1200.0], [0, 1.5, 20.0], [0, 0, 1]])   # C4..C6 in view, 35 px a white key
    keymap = build_keymap(np.linalg.inv(to_image), (1280, 400), range(60, 85))
    band = KeyBandLevels(keymap)
    still = np.full((400, 1280, 3), 100, np.uint8)
    band.update(still, homography=np.eye(3))          # the first frame: every key at its own level
    # The camera pans 12 px (a third of a white key) to the right; E4's band, lit up, is now there.
    shift = np.array([[1.0, 0, 12.0], [0, 1, 0], [0, 0, 1]])
    moved = still.copy()
    points = keymap.to_image(band_points(keymap, 64)) + (12.0, 0.0)
    x0, y0 = np.floor(points.min(axis=0)).astype(int)
    x1, y1 = np.ceil(points.max(axis=0)).astype(int)
    moved[y0:y1 + 1, x0:x1 + 1] = 160
    levels = dict(zip(band.midis, band.update(moved, homography=shift)))
    assert levels[64] > 150 and levels[62] < 130 and levels[65] < 130

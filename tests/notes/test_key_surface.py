"""Vision-only presses from the white keys' tops (notes/key_surface.py): the levels on a drawn image and the
step rule on constructed data."""
import cv2
import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap, key_span
from pianocam.hands.tracker import Hand, Hands
from pianocam.notes.key_surface import KeySurfaceLevels, hand_mask, surface_presses

MIDIS = [60, 62, 64]


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[2.5, 0, -1625.0], [0, 2.5, 20.0], [0, 0, 1]])   # C3..C6 across 1280 px, 2.5 px/mm
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def tips_on(frames: int, midi: int | None, at: range = range(0)) -> list[np.ndarray]:
    """Per frame one fingertip: over `midi` in the frames `at`, else far to the left of the keys."""
    x = sum(key_span(midi)) / 2 if midi is not None else 0.0
    return [np.array([[x if i in at else -500.0, 110.0]]) for i in range(frames)]


def levels_with(frames: int, changes: dict[int, list[tuple[int, int, float]]], rng) -> np.ndarray:
    """(frames, 3) levels at 180 with noise 0.5; changes[midi]: (from, to, change) frame ranges."""
    levels = 180.0 + rng.normal(0, 0.5, (frames, len(MIDIS)))
    for midi, spans in changes.items():
        for start, end, change in spans:
            levels[start:end, MIDIS.index(midi)] += change
    return levels


def test_a_held_step_under_a_fingertip_is_one_press_at_the_step():
    rng = np.random.default_rng(1)
    levels = levels_with(60, {62: [(20, 40, -20.0)]}, rng)
    assert surface_presses(levels, tips_on(60, 62, range(15, 40)), MIDIS) == [(62, 20)]


def test_no_fingertip_on_the_key_no_press():
    rng = np.random.default_rng(2)
    levels = levels_with(60, {62: [(20, 40, -20.0)]}, rng)
    assert surface_presses(levels, tips_on(60, 64, range(15, 40)), MIDIS) == []   # the tip is on the next key
    assert surface_presses(levels, tips_on(60, 62, range(30, 40)), MIDIS) == []   # it arrives ten frames late


def test_a_passing_shadow_is_not_held_and_a_release_is_no_press():
    rng = np.random.default_rng(3)
    # a two-frame dip (a finger's shadow going by), then a key that was down from the start coming back up
    levels = levels_with(60, {62: [(20, 22, -20.0)], 60: [(0, 30, -20.0)]}, rng)
    assert surface_presses(levels, tips_on(60, 62, range(0, 60)) + [], MIDIS) == []
    assert surface_presses(levels, tips_on(60, 60, range(0, 60)), MIDIS) == []


def test_a_step_under_the_drop_is_no_press():
    rng = np.random.default_rng(4)
    levels = levels_with(60, {62: [(20, 40, -5.0)]}, rng)
    assert surface_presses(levels, tips_on(60, 62, range(15, 40)), MIDIS) == []


def test_levels_are_the_uncovered_tops_where_the_camera_moved_them(keymap):
    image = np.full((400, 1280, 3), 200, np.uint8)
    surface = KeySurfaceLevels(keymap)
    assert all(m % 12 in (0, 2, 4, 5, 7, 9, 11) for m in surface.midis)   # white keys only
    # Darken E4's top where the camera, moved 30 px to the right, now shows it.
    x0, x1 = (keymap.to_image(np.array([[key_span(64)[0], 50.0], [key_span(64)[1], 50.0]]))[:, 0] + 30).astype(int)
    cv2.rectangle(image, (x0 + 2, 0), (x1 - 2, 399), (120, 120, 120), -1)
    moved = np.array([[1.0, 0, 30.0], [0, 1, 0], [0, 0, 1]])
    levels = dict(zip(surface.midis, surface.update(image, Hands(0, 0.0, 1280, 400), moved)))
    assert levels[64] == pytest.approx(120, abs=2) and levels[62] == pytest.approx(200, abs=2)
    assert dict(zip(surface.midis, surface.update(image, Hands(0, 0.0, 1280, 400))))[64] > 150   # not moved: mostly D4/E4 edge
    # A hand over the whole of E4 (in the key map's frame) leaves none of it to judge, and D4 as it was.
    centre = keymap.to_image(np.array([[sum(key_span(64)) / 2, 70.0]]))[0]
    (a, top), (b, bottom) = keymap.to_image(np.array([[key_span(64)[0] - 3, 0.0], [key_span(64)[1] + 3, 150.0]]))
    landmarks = np.zeros((21, 3))
    landmarks[:, 0] = np.resize([a, b], 21)
    landmarks[:, 1] = np.linspace(top, bottom, 21)
    hands = Hands(0, 0.0, 1280, 400, [Hand("right", 0.9, landmarks, landmarks / (1280, 400, 1))])
    assert hand_mask((1280, 400), hands, 4)[int(centre[1]), int(centre[0])] == 255
    covered = dict(zip(surface.midis, surface.update(image, hands, moved)))
    assert np.isnan(covered[64]) and covered[62] == pytest.approx(200, abs=2)

"""Vision-only presses from the keys' tops (notes/key_surface.py): the samples on a drawn image and the step
rules on constructed data."""
import cv2
import numpy as np
import pytest

from pianocam.calibration.keymap import build_keymap, key_span
from pianocam.hands.tracker import Hand, Hands
from pianocam.notes.key_surface import KeySurfaceLevels, hand_mask, surface_presses


@pytest.fixture(scope="module")
def keymap():
    to_image = np.array([[2.5, 0, -1625.0], [0, 2.5, 20.0], [0, 0, 1]])   # C3..C6 across 1280 px, 2.5 px/mm
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


@pytest.fixture(scope="module")
def tops(keymap):
    return KeySurfaceLevels(keymap)


def tips_on(frames: int, midi: int, at: range = range(0)) -> list[np.ndarray]:
    """Per frame one fingertip: over `midi` in the frames `at`, else far to the left of the keys."""
    x, y = sum(key_span(midi)) / 2, 50.0 if midi % 12 in (1, 3, 6, 8, 10) else 110.0
    return [np.array([[x if i in at else -500.0, y]]) for i in range(frames)]


def samples_with(tops, frames: int, changes: list[tuple[np.ndarray, int, int, float]], rng) -> np.ndarray:
    """(frames, samples) at 180 with noise 0.5; changes: (samples, from, to, change)."""
    samples = 180.0 + rng.normal(0, 0.5, (frames, sum(len(w) for w in tops.white)))
    for columns, start, end, change in changes:
        samples[start:end, columns] += change
    return samples


def white(tops, midi) -> np.ndarray:
    """The samples of a white key's top."""
    return tops.white[tops.midis.index(midi)]


def strip(tops, midi, side) -> np.ndarray:
    """The samples beside a black key, on its left (0) or right (1)."""
    return tops.strips[tops.blacks.index(midi)][side]


def test_a_held_step_under_a_fingertip_is_one_press_at_the_step(tops):
    rng = np.random.default_rng(1)
    samples = samples_with(tops, 60, [(white(tops, 62), 20, 40, -20.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 62, range(15, 40))) == [(62, 20)]


def test_no_fingertip_on_the_key_no_press(tops):
    rng = np.random.default_rng(2)
    samples = samples_with(tops, 60, [(white(tops, 62), 20, 40, -20.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 64, range(15, 40))) == []   # the tip is on the next key
    assert surface_presses(samples, tops, tips_on(60, 62, range(30, 40))) == []   # it arrives ten frames late


def test_a_passing_shadow_is_not_held_and_a_release_is_no_press(tops):
    rng = np.random.default_rng(3)
    # a two-frame dip (a finger's shadow going by), then a key that was down from the start coming back up
    samples = samples_with(tops, 60, [(white(tops, 62), 20, 22, -20.0), (white(tops, 60), 0, 30, -20.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 62, range(0, 60))) == []
    assert surface_presses(samples, tops, tips_on(60, 60, range(0, 60))) == []


def test_a_step_under_the_drop_is_no_press(tops):
    rng = np.random.default_rng(4)
    samples = samples_with(tops, 60, [(white(tops, 62), 20, 40, -5.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 62, range(15, 40))) == []


def test_a_finger_sliding_over_an_uneven_key_is_no_step(tops):
    """The key's back half is darker than its front; a finger covers the back, then slides onto the front.
    The median of what shows drops 40 levels, but no spot of the key changed: no press (the real partial
    clip's F key, three times)."""
    rng = np.random.default_rng(5)
    key = white(tops, 62)
    back, front = key[: len(key) // 2], key[len(key) // 2:]
    samples = samples_with(tops, 60, [(back, 0, 60, -40.0)], rng)
    samples[:20, back] = np.nan
    samples[20:, front] = np.nan
    assert surface_presses(samples, tops, tips_on(60, 62, range(0, 60))) == []
    # The back seen throughout and itself stepping darker while the finger covers the front: a press.
    samples = samples_with(tops, 60, [(back, 0, 60, -40.0), (back, 20, 60, -20.0)], rng)
    samples[20:, front] = np.nan
    assert surface_presses(samples, tops, tips_on(60, 62, range(0, 60))) == [(62, 20)]


def test_a_black_key_brightens_the_strips_on_both_its_sides(tops):
    rng = np.random.default_rng(6)
    assert 61 in tops.blacks and len(strip(tops, 61, 0)) >= 3 and len(strip(tops, 61, 1)) >= 3
    both = np.concatenate([strip(tops, 61, 0), strip(tops, 61, 1)])
    samples = samples_with(tops, 60, [(both, 20, 40, 6.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 61, range(15, 40))) == [(61, 20)]
    assert surface_presses(samples, tops, tips_on(60, 63, range(15, 40))) == []       # no fingertip on it
    # One side only is its white neighbour coming up (C4 released), not the black key going down.
    samples = samples_with(tops, 60, [(white(tops, 60), 20, 40, 6.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 61, range(15, 40))) == []
    # Coming back up (the strips darkening) is no press of the black key.
    samples = samples_with(tops, 60, [(both, 0, 20, 6.0)], rng)
    assert surface_presses(samples, tops, tips_on(60, 61, range(0, 60))) == []


def levels_of(surface, samples) -> dict[int, float]:
    """Each white key's median sample, NaN where none shows."""
    return {m: float(np.median(v[~np.isnan(v)])) if (~np.isnan(v)).any() else np.nan
            for m, v in ((m, samples[w]) for m, w in zip(surface.midis, surface.white))}


def test_samples_are_the_uncovered_tops_where_the_camera_moved_them(keymap):
    image = np.full((400, 1280, 3), 200, np.uint8)
    surface = KeySurfaceLevels(keymap)
    assert all(m % 12 in (0, 2, 4, 5, 7, 9, 11) for m in surface.midis)   # white keys only
    # Darken E4's top where the camera, moved 30 px to the right, now shows it.
    x0, x1 = (keymap.to_image(np.array([[key_span(64)[0], 50.0], [key_span(64)[1], 50.0]]))[:, 0] + 30).astype(int)
    cv2.rectangle(image, (x0 + 2, 0), (x1 - 2, 399), (120, 120, 120), -1)
    moved = np.array([[1.0, 0, 30.0], [0, 1, 0], [0, 0, 1]])
    levels = levels_of(surface, surface.update(image, Hands(0, 0.0, 1280, 400), moved))
    assert levels[64] == pytest.approx(120, abs=2) and levels[62] == pytest.approx(200, abs=2)
    assert levels_of(surface, surface.update(image, Hands(0, 0.0, 1280, 400)))[64] > 150   # not moved: mostly D4/E4 edge
    # A hand over the whole of E4 (in the key map's frame) leaves none of it to judge, and D4 as it was.
    centre = keymap.to_image(np.array([[sum(key_span(64)) / 2, 70.0]]))[0]
    (a, top), (b, bottom) = keymap.to_image(np.array([[key_span(64)[0] - 3, 0.0], [key_span(64)[1] + 3, 150.0]]))
    landmarks = np.zeros((21, 3))
    landmarks[:, 0] = np.resize([a, b], 21)
    landmarks[:, 1] = np.linspace(top, bottom, 21)
    hands = Hands(0, 0.0, 1280, 400, [Hand("right", 0.9, landmarks, landmarks / (1280, 400, 1))])
    assert hand_mask((1280, 400), hands, 4)[int(centre[1]), int(centre[0])] == 255
    covered = levels_of(surface, surface.update(image, hands, moved))
    assert np.isnan(covered[64]) and covered[62] == pytest.approx(200, abs=2)

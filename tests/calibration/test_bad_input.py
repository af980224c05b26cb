"""Bad frames give a clear error naming what was missing, or a map flagged partial: never a wrong map."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.errors import CalibrationError, KeyboardNotFound, NumberingUnknown
from tests.calibration.conftest import truth_error


def _pitch_classes(keymap, image_x_offset=0.0):
    """(x of centre, pitch class) of the mapped keys, in full-image pixels."""
    return [(k.center[0] + image_x_offset, k.midi % 12) for k in keymap.keys]


def test_no_keyboard_in_view(lamb):
    # The dark stage above the keys.
    with pytest.raises(KeyboardNotFound, match="no piano keyboard found"):
        detect_keymap(np.ascontiguousarray(lamb[:500]))
    with pytest.raises(KeyboardNotFound, match="black-key-shaped bars"):
        detect_keymap(np.full((480, 640, 3), 40, np.uint8))


@pytest.mark.parametrize("name, crop", [
    ("synthkbd-example-4.jpg", (0, 190)),      # printed sheet music with staves and notes
    ("iacv-midna.png", (0, 600)),              # falling-note bars of a piano video, no keys
    ("iacv-star.png", (0, 520)),               # a white wall with a logo
])
def test_photo_of_something_else(shared_data, name, crop):
    image = cv2.imread(str(shared_data / "real/keyboards" / name))
    with pytest.raises(KeyboardNotFound, match="no piano keyboard found|cannot name them"):
        detect_keymap(np.ascontiguousarray(image[crop[0]:crop[1]]))


def test_keyboard_partly_out_of_frame_is_partial_with_right_pitch_classes(lamb):
    whole = detect_keymap(lamb, first_c=48)
    crop = np.ascontiguousarray(lamb[:, 500:1500])     # about two octaves from the middle
    with pytest.raises(NumberingUnknown, match="neither end"):
        detect_keymap(crop)
    part = detect_keymap(crop, first_c=60)
    assert part.partial
    # Every key of the part sits where the whole map has a key of the same pitch class.
    by_x = np.array([k.center[0] for k in whole.keys])
    for x, pc in _pitch_classes(part, 500):
        nearest = whole.keys[int(np.argmin(np.abs(by_x - x)))]
        assert nearest.midi % 12 == pc


def test_too_little_keyboard_in_view(lamb):
    # Five white keys: not enough black keys to tell the groups of two and three.
    with pytest.raises(KeyboardNotFound, match="need at least 6"):
        detect_keymap(np.ascontiguousarray(lamb[:, :300]))


def test_hands_covering_most_keys_gives_an_error_or_the_right_map(flat61):
    scene, image = flat61
    covered = image.copy()
    # Two extra forearms lying across the keys.
    for cx in (260, 620):
        cv2.ellipse(covered, (cx, 200), (150, 70), 0, 0, 360, (120, 160, 205), -1, cv2.LINE_AA)
    try:
        keymap = detect_keymap(covered)
    except CalibrationError as err:
        assert str(err)
        return
    errors = truth_error(keymap, scene)
    assert np.mean(errors[np.isfinite(errors)] <= 0.25) >= 0.98
    assert keymap.midis[0] == 36 or keymap.partial


def test_glare_over_keys_gives_the_same_names_or_an_error(lamb):
    whole = detect_keymap(lamb, first_c=48)
    glare = lamb.copy()
    # A window's reflection: a saturated blur over a third of the keys.
    spot = np.zeros(lamb.shape[:2], np.float32)
    cv2.ellipse(spot, (1300, 720), (330, 160), 0, 0, 360, 1.0, -1)
    spot = cv2.GaussianBlur(spot, (0, 0), 25)[:, :, None]
    glare = np.clip(glare * (1 - spot) + 255 * spot, 0, 255).astype(np.uint8)
    try:
        keymap = detect_keymap(glare, first_c=48)
    except CalibrationError as err:
        assert "keyboard" in str(err) or "keys" in str(err)
        return
    by_x = np.array([k.center[0] for k in whole.keys])
    for x, pc in _pitch_classes(keymap):
        nearest = whole.keys[int(np.argmin(np.abs(by_x - x)))]
        assert nearest.midi % 12 == pc
        assert np.min(np.abs(by_x - x)) < 0.25 * 60

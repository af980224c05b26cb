"""check_drift: a still camera is ok, a knocked one is drifted, a covered view is unknown."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.drift import check_drift


@pytest.fixture(scope="module")
def calibrated(flat61):
    scene, image = flat61
    return scene, detect_keymap(image)


def test_same_camera_later_frame_is_ok(calibrated):
    scene, keymap = calibrated
    later, _ = scene.frame(50)        # the hands have moved on
    report = check_drift(keymap, later)
    assert report["state"] == "ok" and report["mean_error_key_widths"] < 0.1 and report["keys_seen"] >= 20


def test_knocked_camera_is_drifted(calibrated):
    scene, keymap = calibrated
    image, _ = scene.frame(50)
    # Half a white key sideways and a few pixels down: the map no longer fits.
    moved = cv2.warpAffine(image, np.float32([[1, 0, 12], [0, 1, 4]]), image.shape[1::-1])
    report = check_drift(keymap, moved)
    assert report["state"] == "drifted" and report["mean_error_key_widths"] > 0.25
    rotated = cv2.warpAffine(image, cv2.getRotationMatrix2D((480, 270), 3.0, 1.0), image.shape[1::-1])
    assert check_drift(keymap, rotated)["state"] == "drifted"


@pytest.mark.parametrize("white_keys", [1.0, 1.2, 2.0, -1.0])
def test_camera_moved_by_about_a_key_is_drifted(calibrated, white_keys):
    # Moved by about a key, most black keys line up with a neighbour: nearest-key errors alone
    # passed this as ok (a "2-3 keys off" overlay). The sideways-shift search must catch it.
    scene, keymap = calibrated
    image, _ = scene.frame(50)
    pixels = white_keys * keymap.white_key_width_px
    moved = cv2.warpAffine(image, np.float32([[1, 0, pixels], [0, 1, 0]]), image.shape[1::-1])
    report = check_drift(keymap, moved)
    assert report["state"] == "drifted", report
    assert report["shift_key_widths"] == pytest.approx(white_keys, abs=0.3)
    assert ("right" if white_keys > 0 else "left") in report["reason"]


def test_no_keys_visible_is_unknown_not_drifted(calibrated):
    _, keymap = calibrated
    report = check_drift(keymap, np.full((540, 960, 3), 60, np.uint8))
    assert report["state"] == "unknown" and "no piano keyboard" in report["reason"]
    small = check_drift(keymap, np.full((270, 480, 3), 60, np.uint8))
    assert small["state"] == "drifted" and "frame size" in small["reason"]

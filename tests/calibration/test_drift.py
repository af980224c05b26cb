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


def test_no_keys_visible_is_unknown_not_drifted(calibrated):
    _, keymap = calibrated
    report = check_drift(keymap, np.full((540, 960, 3), 60, np.uint8))
    assert report["state"] == "unknown" and "no piano keyboard" in report["reason"]
    small = check_drift(keymap, np.full((270, 480, 3), 60, np.uint8))
    assert small["state"] == "drifted" and "frame size" in small["reason"]

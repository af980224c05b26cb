"""check_drift: a still camera is ok, a knocked one is drifted, a covered view is unknown."""
from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.drift import check_drift
from pianocam.scene import Scene, SceneSpec


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


MARGIN = 200  # px of scene rendered beyond each side of the camera's 960-px view


@pytest.fixture(scope="module")
def panned88():
    """An 88-key keyboard rendered wider than the camera sees: the view is a window that can move."""
    spec = SceneSpec(seed=5, keys=88, seconds=2.0)
    wide = Scene(replace(spec, width=960 + 2 * MARGIN, distance=(960 + 2 * MARGIN) / 960))
    image = wide.frame(10)[0]
    centred = np.ascontiguousarray(image[:, MARGIN:MARGIN + 960])
    visible_cs = [k["midi"] for k in wide.keys if k["midi"] % 12 == 0 and MARGIN <= k["center"][0] < MARGIN + 960]
    return wide, detect_keymap(centred, first_c=min(visible_cs))


@pytest.mark.parametrize("semitones", [2, -2, 5, 7, -7])
def test_camera_moved_by_some_semitones_is_drifted(panned88, semitones):
    # Moved by 2, 5 or 7 semitones, 3 or 4 of each octave's 5 black keys land on other black keys
    # and keys the map never had come into view: nearest-key errors alone called most such moves
    # ok (a "2-3 keys off" overlay). The sideways-shift search must catch them and say which way.
    wide, keymap = panned88
    image = wide.frame(40)[0]  # the hands have moved on
    white_keys = semitones * 7 / 12
    left = MARGIN - int(round(white_keys * keymap.white_key_width_px))
    report = check_drift(keymap, np.ascontiguousarray(image[:, left:left + 960]))
    assert report["state"] == "drifted", report
    if abs(semitones) < 6:
        assert report["shift_key_widths"] == pytest.approx(white_keys, abs=0.3)
        assert ("right" if semitones > 0 else "left") in report["reason"]
    else:  # 7 semitones one way is 5 the other, an octave apart: the pattern cannot tell which
        octaves = (report["shift_key_widths"] - white_keys) / 7
        assert octaves == pytest.approx(round(octaves), abs=0.05)
    still = check_drift(keymap, np.ascontiguousarray(image[:, MARGIN:MARGIN + 960]))
    assert still["state"] == "ok" and still["shift_key_widths"] == 0.0, still


def test_no_keys_visible_is_unknown_not_drifted(calibrated):
    _, keymap = calibrated
    report = check_drift(keymap, np.full((540, 960, 3), 60, np.uint8))
    assert report["state"] == "unknown" and "no piano keyboard" in report["reason"]
    small = check_drift(keymap, np.full((270, 480, 3), 60, np.uint8))
    assert small["state"] == "drifted" and "frame size" in small["reason"]

"""Rendered frames with exact key truth, and real keyboard photos from ../shared/data."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pianocam.scene import Scene, SceneSpec


@pytest.fixture(scope="session")
def flat61():
    """A 61-key keyboard wholly in view, hands playing (a frame where neither hand hides an end)."""
    scene = Scene(SceneSpec(seed=3, keys=61, seconds=2.0))
    return scene, scene.frame(44)[0]


@pytest.fixture(scope="session")
def tilted88():
    """An 88-key keyboard, tilted and rotated, both ends out of frame."""
    scene = Scene(SceneSpec(seed=5, keys=88, seconds=2.0, tilt=12.0, rotate=-8.0, lighting="uneven"))
    return scene, scene.frame(30)[0]


@pytest.fixture(scope="session")
def lamb(shared_data):
    image = cv2.imread(str(shared_data / "real/keyboards/iacv-lamb.png"))
    assert image is not None
    return image


def truth_error(keymap, scene) -> np.ndarray:
    """Per visible truth key, the map's centre error in white-key widths (inf when missing)."""
    from pianocam.calibration.keymap import WHITE_KEY_WIDTH, apply_homography

    to_plane = np.linalg.inv(scene.camera.homography)
    out = []
    for k in scene.keys:
        if not k["visible"]:
            continue
        mine = keymap.key(k["midi"])
        if mine is None:
            out.append(np.inf)
            continue
        a, b = apply_homography(to_plane, [mine.center, k["center"]])
        out.append(np.hypot(*(a - b)) / WHITE_KEY_WIDTH)
    return np.array(out)

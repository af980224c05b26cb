"""The rendered scene's true key map, to measure fingering apart from calibration."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap, build_keymap, key_rectangle


def truth_keymap(truth: dict) -> KeyMap:
    """A KeyMap fitted to truth.json's key polygons (image → keyboard plane, pianocam's convention)."""
    image_points, plane_points, midis = [], [], []
    for key in truth["keys"]:
        if key["black"]:
            continue  # black keys' length differs by convention; white corners pin the plane
        image_points += key["polygon"]
        plane_points += key_rectangle(key["midi"]).tolist()
        midis.append(key["midi"])
    homography, _ = cv2.findHomography(np.float32(image_points), np.float32(plane_points))
    visible = [k["midi"] for k in truth["keys"] if k.get("visible", True)]
    return build_keymap(homography, (truth["width"], truth["height"]), visible, method="truth",
                        keyboard_keys=truth["spec"]["keys"], lowest=min(k["midi"] for k in truth["keys"]))

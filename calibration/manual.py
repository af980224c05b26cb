"""The manual fallback: a key map from the keyboard's four corners, key count and lowest key."""
from __future__ import annotations

import logging

import cv2
import numpy as np

from pianocam.calibration.errors import CalibrationError
from pianocam.calibration.keymap import STANDARD_LOWEST, WHITE_KEY_LENGTH, KeyMap, build_keymap, is_black, key_span

logger = logging.getLogger(__name__)


def parse_corners(text: str) -> np.ndarray:
    """'x1,y1,...,x4,y4' -> 4x2 array."""
    try:
        values = [float(v) for v in text.replace(" ", "").split(",")]
    except ValueError as err:
        raise CalibrationError(f"--corners must be eight numbers x1,y1,...,x4,y4: {text!r}") from err
    if len(values) != 8:
        raise CalibrationError(f"--corners needs eight numbers (four x,y corners), got {len(values)}")
    return np.array(values).reshape(4, 2)


def keymap_from_corners(corners, image_size: tuple[int, int], keys: int, lowest: int | None = None) -> KeyMap:
    """Corners in order back-left, back-right, front-right, front-left of the key area (back = fallboard)."""
    corners = np.asarray(corners, float).reshape(4, 2)
    if lowest is None:
        if keys not in STANDARD_LOWEST:
            raise CalibrationError(f"a {keys}-key keyboard is not a standard size: give --lowest")
        lowest = STANDARD_LOWEST[keys]
    highest = lowest + keys - 1
    if is_black(lowest) or is_black(highest):
        raise CalibrationError("the keyboard's end keys must be white keys (check --lowest and --keys)")
    quad = corners.astype(np.float32)
    if not cv2.isContourConvex(quad.reshape(-1, 1, 2)) or abs(cv2.contourArea(quad)) < 100:
        raise CalibrationError("--corners do not form a convex quadrilateral (order: back-left, back-right, "
                               "front-right, front-left)")
    # Back edge towards the top or not, the corners must run clockwise in the image as listed.
    if cv2.contourArea(quad, oriented=True) < 0:
        raise CalibrationError("--corners run anticlockwise: give them as back-left, back-right, front-right, "
                               "front-left")
    x0, x1 = key_span(lowest)[0], key_span(highest)[1]
    plane = np.float32([[x0, 0], [x1, 0], [x1, WHITE_KEY_LENGTH], [x0, WHITE_KEY_LENGTH]])
    to_plane = cv2.getPerspectiveTransform(quad, plane)
    w, h = image_size
    keymap = build_keymap(to_plane, image_size, range(lowest, highest + 1), keyboard_keys=keys, lowest=lowest,
                          method="corners")
    inside = [k for k in keymap.keys if 0 <= k.center[0] < w and 0 <= k.center[1] < h]
    if len(inside) < len(keymap.keys):
        keymap = build_keymap(to_plane, image_size, [k.midi for k in inside], keyboard_keys=keys, lowest=lowest,
                              method="corners", partial=True,
                              notes=[f"{len(keymap.keys) - len(inside)} keys lie outside the image"])
    if not keymap.keys:
        raise CalibrationError("--corners put every key outside the image")
    return keymap

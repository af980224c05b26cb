"""Has the camera moved since calibration? Compare the black keys in a live frame with the key map."""
from __future__ import annotations

import logging

import numpy as np

from pianocam.device.keyboard import SEMITONE_WIDTH, WHITE_KEY_WIDTH, KeyMap

from .blackkeys import find_black_keys
from .errors import CalibrationError
from .detect import key_row
from .pattern import MIN_KEYS

logger = logging.getLogger(__name__)

DRIFT_THRESHOLD = 0.25   # white-key widths: a fingertip this far off may land on the next key


def check_drift(keymap: KeyMap, image: np.ndarray, threshold: float = DRIFT_THRESHOLD) -> dict:
    """{"state": "ok"|"drifted"|"unknown", "mean_error_key_widths", "max_error_key_widths", "keys_seen", ...}

    Each black key seen in the frame is taken to the keyboard plane through the map; its
    error is how far its back end lies from where the map has a black key's back end.
    "unknown" means too few black keys were visible to judge (hands over the keys): keep
    the previous state rather than recalibrating on it.
    """
    result = {"state": "unknown", "mean_error_key_widths": None, "max_error_key_widths": None,
              "keys_seen": 0, "threshold_key_widths": threshold, "reason": None}
    if tuple(image.shape[1::-1]) != tuple(keymap.image_size):
        result.update(state="drifted", reason=f"frame size {image.shape[1]}x{image.shape[0]} differs from the "
                                              f"map's {keymap.image_size[0]}x{keymap.image_size[1]}")
        return result
    try:
        row = key_row(find_black_keys(image))
    except CalibrationError as err:
        result["reason"] = str(err)
        return result
    mapped_black = np.array(sorted(k.midi for k in keymap.keys if k.black))
    if not len(mapped_black):
        result["reason"] = "the map has no black keys"
        return result
    backs = keymap.to_plane([b.back for b in row])
    errors = []
    for x, y in backs:
        nearest = mapped_black[np.argmin(np.abs((mapped_black + 0.5) * SEMITONE_WIDTH - x))]
        dx = x - (nearest + 0.5) * SEMITONE_WIDTH
        errors.append(np.hypot(dx, y) / WHITE_KEY_WIDTH)
    errors = np.array(errors)
    # Stray dark bars (a sleeve, a shadow) are not keys: judge on the better half-plus.
    errors = np.sort(errors)[:max(MIN_KEYS, int(np.ceil(0.8 * len(errors))))]
    mean = float(np.mean(errors))
    result.update(keys_seen=len(row), mean_error_key_widths=round(mean, 3),
                  max_error_key_widths=round(float(np.max(errors)), 3),
                  state="drifted" if mean > threshold else "ok")
    if mean > threshold:
        result["reason"] = f"black keys lie {mean:.2f} white-key widths from the map on average"
    return result

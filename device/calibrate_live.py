"""Calibration on the unit: a key map from one live frame, with the config's hints."""
from __future__ import annotations

import logging

from .keyboard import parse_note

logger = logging.getLogger(__name__)


def calibrate_frame(image, calibration_config) -> tuple[object | None, str]:
    """(KeyMap, "") from one frame, or (None, why) when the keyboard cannot be mapped."""
    from pianocam.calibration.detect import detect_keymap

    try:
        lowest = parse_note(calibration_config.lowest) if calibration_config.lowest else None
        keymap = detect_keymap(image, keys=calibration_config.keys or None, lowest=lowest)
    except ValueError as err:  # CalibrationError and its kin say what was not found
        return None, str(err)
    return keymap, ""

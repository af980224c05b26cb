"""Calibration on the unit: a key map from one live frame, with the config's hints."""
from __future__ import annotations

import logging

from .keyboard import parse_note

logger = logging.getLogger(__name__)


def calibrate_frame(image, calibration_config) -> tuple[object | None, str]:
    """(KeyMap, "") from one frame, or (None, why) when the keyboard cannot be mapped."""
    from pianocam.calibration.detect import detect_keymap

    try:
        c = calibration_config
        keymap = detect_keymap(image, keys=c.keys or None, lowest=parse_note(c.lowest) if c.lowest else None,
                               first_c=parse_note(c.first_c) if c.first_c else None)
    except ValueError as err:  # CalibrationError and its kin say what was not found
        return None, str(err)
    return keymap, ""

"""Calibration on the unit: a key map from one live frame, with the config's hints."""
from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def calibrate_frame(image, calibration_config) -> tuple[object | None, str]:
    """(KeyMap, "") from one frame, or (None, why) when the keyboard cannot be mapped."""
    try:
        from pianocam.calibration import calibrate_image
    except ImportError as err:
        return None, f"calibration unavailable: {err}"
    try:
        keymap = calibrate_image(image, keys=calibration_config.keys or None,
                                 lowest=calibration_config.lowest or None)
    except ValueError as err:
        return None, str(err)
    return keymap, ""

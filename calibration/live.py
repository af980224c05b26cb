"""Calibration on the unit: a key map from one live frame, with the config's hints or the previous map."""
from __future__ import annotations

import logging

import numpy as np

from pianocam.calibration.keymap import KeyMap, note_name, parse_note

logger = logging.getLogger(__name__)

# Octaves are told apart by where the keys were: a camera knocked by less than half an octave
# (3.5 white keys) leaves each key nearer its old place than any key an octave away. A move near
# half an octave could be either way, so the previous map speaks only for clearly smaller ones;
# a bigger move on purpose wants fresh hints (cmd/recalibrate {"fresh": true}).
MAX_MOVE_WHITE_KEYS = 3.0
MIN_COMMON_KEYS = 5


def calibrate_frame(image, calibration_config, previous: KeyMap | None = None) -> tuple[KeyMap | None, str]:
    """(KeyMap, "") from one frame, or (None, why) when the keyboard cannot be mapped.

    With a previous map of the same camera (recalibration after a knock), the keys keep the
    numbering that map gave them unless both ends of the keyboard are in view: a hint such as
    calibration.first_c ("the leftmost C in view") goes stale as soon as the camera moves, and an
    octave error would silently ruin every note after it.
    """
    from pianocam.calibration.detect import detect_keymap
    from pianocam.calibration.errors import NumberingUnknown

    c = calibration_config
    hints = dict(keys=c.keys or None, lowest=parse_note(c.lowest) if c.lowest else None,
                 first_c=parse_note(c.first_c) if c.first_c else None)
    keymap, error = None, ""
    try:
        keymap = detect_keymap(image, **hints)
    except NumberingUnknown as err:  # keys found, octaves not: the previous map may tell them
        error = str(err)
    except ValueError as err:  # CalibrationError and its kin say what was not found
        return None, str(err)
    usable = previous is not None and tuple(previous.image_size) == tuple(image.shape[1::-1])
    if not usable or (keymap is not None and not keymap.partial):
        return (keymap, "") if keymap is not None else (None, error)
    relative = keymap or _any_octave(image)  # the previous map corrects the octave
    if relative is None:
        return None, error
    octave = octave_from_previous(relative, previous)
    if octave is None or (keymap is not None and octave == 0):
        if keymap is not None:
            return keymap, ""
        return None, f"{error}; the previous key map does not tell either (the camera moved more than " \
                     f"{MAX_MOVE_WHITE_KEYS:g} white keys)"
    first_c = min(k.midi for k in relative.keys if k.midi % 12 == 0) + 12 * octave
    try:
        renumbered = detect_keymap(image, first_c=first_c)
    except ValueError as err:
        return (keymap, "") if keymap is not None else (None, f"{error}; numbering from the previous key map "
                                                                 f"failed: {err}")
    if keymap is not None:
        logger.warning("the config's hints number this view %s octave(s) off the previous key map: the camera has "
                       "moved, so the previous map's numbering is kept (leftmost C in view now %s; update "
                       "calibration.first_c, or send cmd/recalibrate {\"fresh\": true} if the old map was wrong)",
                       -octave, note_name(first_c))
    else:
        logger.info("numbered from the previous key map: leftmost C in view is %s", note_name(first_c))
    return renumbered, ""


def _any_octave(image) -> KeyMap | None:
    """The keys numbered in some octave: as the ends suggest, else with C4 as the leftmost C."""
    from pianocam.calibration.detect import detect_keymap

    for hints in ({}, {"first_c": 60}):
        try:
            return detect_keymap(image, **hints)
        except ValueError:
            continue
    return None


def octave_from_previous(keymap: KeyMap, previous: KeyMap) -> int | None:
    """How many octaves to add to keymap's numbers so its keys lie where previous had them; None if unclear."""
    centres = {k.midi: np.asarray(k.center, float) for k in previous.keys}
    width = previous.white_key_width_px
    scores = []
    for octave in range(-8, 9):
        moved = [np.hypot(*(np.asarray(k.center, float) - centres[k.midi + 12 * octave])) for k in keymap.keys
                 if k.midi + 12 * octave in centres]
        if len(moved) >= MIN_COMMON_KEYS:
            scores.append((float(np.median(moved)) / width, octave))
    if not scores:
        return None
    distance, octave = min(scores)
    logger.info("keys lie %.1f white keys from where the previous map had them (octave %+d)", distance, octave)
    return octave if distance <= MAX_MOVE_WHITE_KEYS else None

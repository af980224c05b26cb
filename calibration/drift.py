"""Has the camera moved since calibration? Compare the black keys in a live frame with the key map."""
from __future__ import annotations

import logging

import numpy as np

from pianocam.calibration.blackkeys import find_black_keys
from pianocam.calibration.detect import key_row
from pianocam.calibration.errors import CalibrationError
from pianocam.calibration.keymap import SEMITONE_WIDTH, WHITE_KEY_WIDTH, KeyMap
from pianocam.calibration.pattern import MIN_KEYS

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
    backs = np.asarray(keymap.to_plane([b.back for b in row]), float)
    centres = (mapped_black + 0.5) * SEMITONE_WIDTH
    keep = max(MIN_KEYS, int(np.ceil(0.8 * len(backs))))

    def sideways_after(shift: float) -> np.ndarray:
        """Each black key's sideways distance (white-key widths) to the map's nearest, the row moved by shift."""
        return np.min(np.abs(backs[:, :1] - shift - centres[None, :]), axis=1) / WHITE_KEY_WIDTH

    def trimmed(errors: np.ndarray) -> float:
        # Stray dark bars (a sleeve, a shadow) are not keys: judge on the better 80 %.
        return float(np.mean(np.sort(errors)[:keep]))

    errors = np.hypot(sideways_after(0.0), backs[:, 1] / WHITE_KEY_WIDTH)  # each key's distance to the map
    mean = trimmed(errors)
    # A camera knocked sideways by some semitones lines most black keys up with other black keys
    # (the 2-and-3 pattern repeats in parts: 3 of 5 per octave at 2 semitones, 4 of 5 at 5 or 7),
    # so nearest-key errors alone can look fine. Find the sideways shift under which the largest
    # share of black keys fits the map, within an octave either way (an octave shift only shows at
    # the ends). Shares count only keys that land within the map's span under that shift: a real
    # move brings keys the map never had into view on one side, and they fit under no shift.
    # Sleeves and shadows fit nowhere either, so the best shift must fit a clearly larger share.
    span = (centres.min() - SEMITONE_WIDTH, centres.max() + SEMITONE_WIDTH)
    shifts = np.arange(-12.0, 12.0001, 0.05) * SEMITONE_WIDTH
    shares, fitting, costs = np.zeros(len(shifts)), np.zeros(len(shifts)), np.full(len(shifts), np.inf)
    for i, shift in enumerate(shifts):
        inside = (backs[:, 0] - shift >= span[0]) & (backs[:, 0] - shift <= span[1])
        if inside.sum() >= max(MIN_KEYS, 0.6 * len(backs)):  # a shift that leaves most keys off the map says little
            e = sideways_after(shift)[inside]  # a move up or down the keys is the mean error's to judge
            fitting[i] = np.sum(e <= threshold)
            shares[i], costs[i] = fitting[i] / len(e), trimmed(e)
    # Best share; among equal shares the shift that keeps the most keys fitting, then the closest fit.
    best_index = min(np.flatnonzero(shares >= shares.max() - 1e-9), key=lambda i: (-fitting[i], costs[i]))
    best = float(shifts[best_index])
    still_index = int(np.argmin(np.abs(shifts)))
    shifted = (abs(best) / WHITE_KEY_WIDTH > threshold and shares[best_index] >= 0.75
               and shares[best_index] >= shares[still_index] + 0.1)
    result.update(keys_seen=len(row), mean_error_key_widths=round(mean, 3),
                  max_error_key_widths=round(float(np.max(errors)), 3),
                  shift_key_widths=round(best / WHITE_KEY_WIDTH, 2) if shifted else 0.0,
                  state="drifted" if mean > threshold or shifted else "ok")
    if shifted:
        side = "right" if best > 0 else "left"
        result["reason"] = (f"the keys lie {abs(best) / WHITE_KEY_WIDTH:.2f} white-key widths to the {side} "
                            f"of the map: {shares[best_index]:.0%} of the black keys fit it shifted so, "
                            f"{shares[still_index]:.0%} as it is")
    elif mean > threshold:
        result["reason"] = f"black keys lie {mean:.2f} white-key widths from the map on average"
    return result

"""Vision evidence for one note: how far each fingertip of each hand is from the key, in key widths."""
from __future__ import annotations

import numpy as np

from ..hands import FINGERTIPS, Hands
from ..keyboard import WHITE_KEY_WIDTH, KeyMap, key_length, strike_point

SIDES = ("left", "right")
# Fingers strike anywhere along a key's length, so distance along the key counts for less
# than distance across it (where the neighbouring key begins half a width away).
ALONG_KEY_WEIGHT = 0.3


def key_position(keymap: KeyMap, midi: int) -> float:
    """Where a key lies along the keyboard, in white-key widths from the left of C-1."""
    return float(strike_point(midi, keymap.black_key_length)[0] / WHITE_KEY_WIDTH)


def fingertip_distances(hands: Hands, keymap: KeyMap, midi: int) -> np.ndarray:
    """(2, 5) distances in white-key widths from each fingertip (left, right hand) to the key; inf if unseen."""
    distances = np.full((2, 5), np.inf)
    target = strike_point(midi, keymap.black_key_length)
    length = key_length(midi, keymap.black_key_length)
    for hand in hands.hands:
        row = SIDES.index(hand.side)
        tips = keymap.to_plane(hand.landmarks[list(FINGERTIPS.values()), :2])
        across = np.abs(tips[:, 0] - target[0])
        # Along the key: no cost anywhere on its length, growing beyond its ends.
        beyond = np.maximum(0.0, np.maximum(-tips[:, 1], tips[:, 1] - length))
        distances[row] = np.hypot(across, ALONG_KEY_WEIGHT * beyond) / WHITE_KEY_WIDTH
    return distances


def note_evidence(frames: list[Hands], keymap: KeyMap, midi: int) -> np.ndarray:
    """Per hand and finger, the closest any frame around the onset brought that fingertip to the key."""
    best = np.full((2, 5), np.inf)
    for hands in frames:
        best = np.minimum(best, fingertip_distances(hands, keymap, midi))
    return best

"""Hands seen by a moving camera, moved into the image of the frame the key map was made on."""
from __future__ import annotations

import numpy as np

from pianocam.calibration.keymap import apply_homography
from pianocam.hands.tracker import Hand, Hands


def in_reference(hands: Hands, homography: np.ndarray) -> Hands:
    """These hands with their landmarks (x, y) moved by the inverse of `homography` (reference → this frame)."""
    back = np.linalg.inv(homography)
    moved = []
    for hand in hands.hands:
        landmarks = hand.landmarks.copy()
        landmarks[:, :2] = apply_homography(back, landmarks[:, :2])
        moved.append(Hand(hand.side, hand.score, landmarks, hand.normalized))
    return Hands(hands.frame_index, hands.t, hands.width, hands.height, moved)

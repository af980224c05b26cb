"""Draw a key map over its frame so a person can confirm it at a glance."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.device.keyboard import KeyMap

WHITE_OUTLINE = (0, 200, 0)
BLACK_OUTLINE = (0, 140, 255)
LABEL = (255, 40, 40)


def draw_overlay(image: np.ndarray, keymap: KeyMap) -> np.ndarray:
    """The frame with every key outlined, each C (and the ends) labelled, strike points dotted."""
    out = image.copy()
    scale = max(1, int(round(image.shape[1] / 960)))
    for key in sorted(keymap.keys, key=lambda k: k.black):
        poly = np.round(key.polygon * 16).astype(np.int32)
        colour = BLACK_OUTLINE if key.black else WHITE_OUTLINE
        cv2.polylines(out, [poly], True, colour, scale, cv2.LINE_AA, shift=4)
        cv2.circle(out, tuple(np.round(key.center).astype(int)), 2 * scale, colour, -1, cv2.LINE_AA)
    ends = {keymap.keys[0].midi, keymap.keys[-1].midi} if keymap.keys else set()
    for key in keymap.keys:
        if key.midi % 12 == 0 or key.midi in ends:
            x, y = key.polygon[2:4].mean(axis=0)
            text = key.name
            size, _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, scale)
            org = (int(x - size[0] / 2), int(min(out.shape[0] - 4, y + size[1] + 6)))
            cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, (255, 255, 255), 3 * scale,
                        cv2.LINE_AA)
            cv2.putText(out, text, org, cv2.FONT_HERSHEY_SIMPLEX, 0.4 * scale, LABEL, scale, cv2.LINE_AA)
    if keymap.partial:
        cv2.putText(out, "PARTIAL MAP", (10, 24 * scale), cv2.FONT_HERSHEY_SIMPLEX, 0.7 * scale, (0, 0, 255),
                    2 * scale, cv2.LINE_AA)
    return out

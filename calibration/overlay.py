"""Draw a key map over its frame so a person can confirm it at a glance."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap

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
    _mark_ends(out, keymap, scale)
    if keymap.numbered_by:
        _banner(out, f"numbered by: {keymap.numbered_by}", 48 * scale, scale, (255, 255, 255))
    return out


def _banner(out, text: str, y: int, scale: int, colour) -> None:
    cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, (0, 0, 0), 4 * scale, cv2.LINE_AA)
    cv2.putText(out, text, (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * scale, colour, scale, cv2.LINE_AA)


def _mark_ends(out, keymap: KeyMap, scale: int) -> None:
    """A bar at the outer edge of the first and last key found, with what lies beyond it."""
    if not keymap.keys or not keymap.ends:
        return
    whites = [k for k in keymap.keys if not k.black]
    for side, key, edge in (("left", whites[0], (0, 3)), ("right", whites[-1], (1, 2))):
        beyond = keymap.ends.get(side)
        if not beyond:
            continue
        a, b = (tuple(np.round(key.polygon[i]).astype(int)) for i in edge)
        colour = (0, 0, 255) if beyond == "body" else (0, 220, 255)
        cv2.line(out, a, b, colour, 3 * scale, cv2.LINE_AA)
        label = {"body": "end", "border": "frame edge"}.get(beyond, beyond)
        cv2.putText(out, label, (int(b[0]) - 30 * scale * (side == "right"), int(b[1]) + 18 * scale),
                    cv2.FONT_HERSHEY_SIMPLEX, 0.45 * scale, colour, scale, cv2.LINE_AA)


def draw_refusal(image: np.ndarray, reason: str, located: KeyMap | None = None) -> np.ndarray:
    """The frame with why no key map was made, and the keys found (named in some octave) if any."""
    out = draw_overlay(image, located) if located is not None else image.copy()
    scale = max(1, int(round(image.shape[1] / 960)))
    words, line, lines = reason.split(), "", []
    for word in ["REFUSED:"] + words:
        if len(line) + len(word) > 90:
            lines.append(line)
            line = ""
        line += (" " if line else "") + word
    lines.append(line)
    for i, text in enumerate(lines[:4]):
        _banner(out, text, (72 + 22 * i) * scale, scale, (80, 80, 255))
    return out

"""Find black-key candidates: dark bars with white keys on both sides, seen from above."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

logger = logging.getLogger(__name__)

# The camera looks along the keys within this many degrees of the image's vertical.
MAX_KEY_TILT_DEG = 30.0


@dataclass(frozen=True)
class BlackKeyBlob:
    """One dark bar: its back and front end (image pixels), width and length in pixels."""

    back: np.ndarray
    front: np.ndarray
    width: float
    length: float
    area: float

    @property
    def middle(self) -> np.ndarray:
        return (self.back + self.front) / 2


def grey_levels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Greyscale and its locally normalised version (1 = the local white)."""
    grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    grey = grey.astype(np.float32)
    h, w = grey.shape
    # The local white level: a wide maximum, smoothed. Dividing by it undoes dim and
    # uneven light so one threshold serves the whole frame.
    k = max(15, (w // 24) | 1)
    white = cv2.dilate(grey, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k)))
    white = cv2.blur(white, (k, k))
    # Far from the keys the local maximum is wood or floor: a floor at under half the
    # frame's white keeps those from passing for white, and a glare from pushing shaded
    # white keys under it.
    floor = 0.3 * float(np.percentile(grey, 99.5))
    return grey, grey / np.maximum(white, max(floor, 1.0))


def _shifted_max(mask: np.ndarray, reach: int, direction: str) -> np.ndarray:
    """For each pixel, whether `mask` is set within `reach` px to the left/right/below."""
    if direction in ("left", "right"):
        kernel = np.ones((1, reach + 1), np.uint8)
        anchor = (reach, 0) if direction == "left" else (0, 0)
    else:
        kernel = np.ones((reach + 1, 1), np.uint8)
        anchor = (0, 0)
    return cv2.dilate(mask, kernel, anchor=anchor, borderType=cv2.BORDER_CONSTANT, borderValue=0)


def key_masks(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(white, dark) uint8 masks of the frame."""
    grey, norm = grey_levels(image)
    bright = float(np.percentile(grey, 99.5))
    white = ((norm > 0.62) & (grey > 0.22 * bright)).astype(np.uint8)
    dark = ((norm < 0.45) | (grey < 0.12 * bright)).astype(np.uint8)
    dark &= 1 - white
    return white, dark


def find_black_keys(image: np.ndarray) -> list[BlackKeyBlob]:
    """Dark bars enclosed left and right by white: the black keys (and some impostors)."""
    h, w = image.shape[:2]
    white, dark = key_masks(image)
    reach = max(6, w // 16)
    enclosed = dark & _shifted_max(white, reach, "left") & _shifted_max(white, reach, "right")
    # The thin shadows between white keys are dark and enclosed too: a horizontal
    # opening wider than they are removes them but keeps the black keys.
    gap = max(3, int(round(w / 320)))
    enclosed = cv2.morphologyEx(enclosed, cv2.MORPH_OPEN, np.ones((1, gap), np.uint8))
    # Glossy black keys catch the light in streaks across them: close such breaks along the key.
    streak = max(3, h // 60)
    enclosed = cv2.morphologyEx(enclosed, cv2.MORPH_CLOSE, np.ones((streak, 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(enclosed, connectivity=4)
    blobs = []
    min_area = max(12, (w * h) // 200000)
    for i in range(1, count):
        area = stats[i, cv2.CC_STAT_AREA]
        if area < min_area:
            continue
        x, y, bw, bh = stats[i, :4]
        ys, xs = np.nonzero(labels[y:y + bh, x:x + bw] == i)
        pts = np.column_stack([xs + x, ys + y]).astype(np.float32)
        blob = _bar(pts, area)
        if blob is not None:
            blobs.append(blob)
    logger.debug("%d dark components, %d bar-shaped", count - 1, len(blobs))
    return blobs


def _bar(pts: np.ndarray, area: float) -> BlackKeyBlob | None:
    """Fit a bar to a component's pixels; None when it is not bar-shaped or not upright."""
    (cx, cy), (a, b), angle = cv2.minAreaRect(pts)
    theta = np.radians(angle)
    axis_a = np.array([np.cos(theta), np.sin(theta)])
    axis_b = np.array([-np.sin(theta), np.cos(theta)])
    length, width, axis = (a, b, axis_a) if a >= b else (b, a, axis_b)
    if width < 2 or length < 2.0 * width or length > 16 * width:
        return None
    if axis[1] < 0:
        axis = -axis
    if np.degrees(np.arccos(min(1.0, abs(axis[1])))) > MAX_KEY_TILT_DEG:
        return None
    # A bar fills its rectangle; a hand or a blotch does not.
    if area < 0.7 * length * width:
        return None
    centre = np.array([cx, cy])
    return BlackKeyBlob(back=centre - axis * length / 2, front=centre + axis * length / 2,
                        width=float(width), length=float(length), area=float(area))

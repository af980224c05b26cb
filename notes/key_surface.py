"""Vision-only presses from the white keys' own tops: a key going down tilts away from the light, so the part
of its top that no hand covers steps darker from one frame to the next, and stays darker while the key is held.

On the real partial-keyboard clip (a hand-held phone over the keys, their fronts at the bottom of the picture)
every white-key press its two labellers marked shows as such a step, 11-37 grey levels at the labelled frame,
with each key sampled where the camera's motion puts it (calibration.motion) and the hand masked out. A black
key's top is too dark to show it: those presses come from fingertip strokes and key motion (notes/presses.py).
On the real Ode to Joy close-up the fingers lie along the pressed keys and hide their tops (E and F show no
step): the cue is for views that show the keys' tops beside the fingers.
"""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, WHITE_KEY_WIDTH, KeyMap, apply_homography, is_black, key_span
from pianocam.hands.tracker import Hands
from pianocam.notes.vision import BONES, white_key_top

# Set on the real partial-keyboard clip (its blind labels; benchmarks/fingering_real.py, row "surface"): the Ode
# to Joy close-up and the rendered scenes are the check.
STEP_FRAMES = 2           # a step: the median of this many frames before it against this many from it on
DROP = 8.0                # grey levels (8-bit) darker at the step ...
HOLD = 10.0               # ... and still this much darker HOLD_FRAMES on (a passing shadow is not held)
HOLD_FRAMES = (3, 10)
TIP_MM = 3.0              # a fingertip within this of the key's sides (keyboard plane) ...
TIP_FRAMES = 2            # ... within this many frames of the step
MASK_MM = 3.5             # a hand covers its landmarks' outline and this much either side of its bones
MIN_SAMPLES = 4           # uncovered samples a key needs in a frame for a level
NMS_FRAMES = 6            # one press per key within this many frames either side: its deepest step


def surface_points(keymap: KeyMap, midi: int) -> np.ndarray:
    """Points (keyboard plane, mm) over a white key's top: between the black keys and in front of them."""
    x0, x1 = key_span(midi)
    return white_key_top(midi, np.linspace(x0 + 2.0, x1 - 2.0, 5), np.linspace(8.0, keymap.black_key_length - 3, 6),
                         np.linspace(keymap.black_key_length + 4, 140.0, 10))


class KeySurfaceLevels:
    """Per frame, the median grey level of each white key's uncovered top (NaN where too little shows)."""

    def __init__(self, keymap: KeyMap):
        self.keymap = keymap
        self.midis = [m for m in keymap.midis if not is_black(m)]
        points = [keymap.to_image(surface_points(keymap, m)) for m in self.midis]
        self._points = np.vstack(points) if points else np.zeros((0, 2))            # key map frame, image px
        self._key = np.repeat(np.arange(len(points)), [len(p) for p in points])     # each point's key
        self._own = self._points.round().astype(int)                                # where the hand mask is looked up
        width, height = keymap.image_size
        self._in_map = ((self._own[:, 0] >= 0) & (self._own[:, 0] < width)
                        & (self._own[:, 1] >= 0) & (self._own[:, 1] < height))
        self._pad = max(1, int(round(MASK_MM * keymap.white_key_width_px / WHITE_KEY_WIDTH)))

    def update(self, image: np.ndarray, hands: Hands, homography: np.ndarray | None = None) -> np.ndarray:
        """`hands` in the key map's frame (hands.steady.in_reference where the camera moves); `homography`:
        the camera's motion from the key map's frame to this one (None: the camera is still)."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        height, width = grey.shape[:2]
        mask = hand_mask(self.keymap.image_size, hands, self._pad)
        levels = np.full(len(self.midis), np.nan)
        at = self._points if homography is None else apply_homography(homography, self._points)
        clear = (self._in_map & (at[:, 0] >= 0) & (at[:, 0] < width - 1) & (at[:, 1] >= 0) & (at[:, 1] < height - 1))
        clear[clear] = mask[self._own[clear, 1], self._own[clear, 0]] == 0
        px = at.round().astype(int)
        for k in range(len(self.midis)):
            mine = clear & (self._key == k)
            if mine.sum() >= MIN_SAMPLES:
                levels[k] = float(np.median(grey[px[mine, 1], px[mine, 0]]))
        return levels


def hand_mask(size: tuple[int, int], hands: Hands, pad: int) -> np.ndarray:
    """A uint8 image of `size` (width, height), 255 where a hand lies: its landmarks' outline and its bones
    drawn `pad` px either side."""
    mask = np.zeros((int(size[1]), int(size[0])), np.uint8)
    for hand in hands.hands:
        points = np.round(hand.landmarks[:, :2]).astype(np.int32)
        cv2.fillConvexPoly(mask, cv2.convexHull(points), 255)
        for a, b in BONES:
            cv2.line(mask, tuple(int(v) for v in points[a]), tuple(int(v) for v in points[b]), 255, 2 * pad)
    return mask


def _median(values: np.ndarray) -> np.ndarray:
    """The column medians of `values`, NaN where a column has no number."""
    out = np.full(values.shape[1:], np.nan)
    seen = ~np.all(np.isnan(values), axis=0)
    out[seen] = np.nanmedian(values[:, seen], axis=0)
    return out


def surface_steps(levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames, keys) how much darker each key is from each frame on than just before it (the step), and
    HOLD_FRAMES later (the hold); 0 where either side is unseen."""
    n = len(levels)
    drop, held = np.zeros_like(levels), np.zeros_like(levels)
    for i in range(STEP_FRAMES, n - STEP_FRAMES):
        before = _median(levels[i - STEP_FRAMES:i])
        drop[i] = before - _median(levels[i:i + STEP_FRAMES])
        if i + HOLD_FRAMES[0] < n:
            held[i] = before - _median(levels[i + HOLD_FRAMES[0]:min(n, i + HOLD_FRAMES[1])])
    return np.nan_to_num(drop), np.nan_to_num(held)


def fingertip_on(tips: list[np.ndarray], midis: list[int]) -> np.ndarray:
    """(frames, keys): a fingertip (plane mm; one (k, 2) array a frame) over the key, within TIP_MM of its
    sides, in a frame within TIP_FRAMES of this one."""
    n = len(tips)
    spans = np.array([key_span(m) for m in midis]).reshape(-1, 2)
    on = np.zeros((n, len(midis)), bool)
    for i, frame in enumerate(tips):
        if len(frame):
            x, y = frame[:, 0:1], frame[:, 1:2]
            on[i] = np.any((x > spans[:, 0] - TIP_MM) & (x < spans[:, 1] + TIP_MM)
                           & (y > 0) & (y < WHITE_KEY_LENGTH + 10), axis=0)
    near = on.copy()
    for shift in range(1, TIP_FRAMES + 1):
        near[shift:] |= on[:-shift]
        near[:-shift] |= on[shift:]
    return near


def surface_presses(levels: np.ndarray, tips: list[np.ndarray], midis: list[int]) -> list[tuple[int, int]]:
    """(midi, frame) of each white-key press: a step DROP darker, held HOLD darker, a fingertip on the key,
    the deepest such step of that key within NMS_FRAMES. levels: (frames, keys) of KeySurfaceLevels;
    tips: per frame the fingertips on the keyboard plane."""
    drop, held = surface_steps(levels)
    candidate = (drop >= DROP) & (held >= HOLD) & fingertip_on(tips, midis)
    presses = []
    for k, midi in enumerate(midis):
        for i in np.flatnonzero(candidate[:, k]):
            lo, hi = max(0, i - NMS_FRAMES), min(len(drop), i + NMS_FRAMES + 1)
            here = drop[lo:hi, k]
            deeper = candidate[lo:hi, k] & ((here > here[i - lo]) | ((here == here[i - lo]) & (np.arange(lo, hi) < i)))
            if not deeper.any():
                presses.append((int(midi), int(i)))
    return sorted(presses, key=lambda p: (p[1], p[0]))


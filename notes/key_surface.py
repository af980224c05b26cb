"""Vision-only presses from the keys' own tops: a white key going down tilts away from the light, so the part of
its top that no hand covers steps darker from one frame to the next and stays darker while the key is held; a black
key going down lets the light onto the white strips beside it, which step brighter on both its sides.

On the real partial-keyboard clip (a hand-held phone over the keys, their fronts at the bottom of the picture)
every white-key press its two labellers marked shows as such a step, 11-37 grey levels at the labelled frame, and
each black-key press (D#) as the strips beside it brightening 3-15 levels (the labellers' own cue), with each key
sampled where the camera's motion puts it (calibration.motion) and the hand masked out. Each sample is compared
with itself (the same spot of the key, uncovered before and after): a median over whichever samples happen to be
uncovered moves whenever a finger slides over a key of uneven brightness, which on that clip was a third of the
white-key presses found. On the real Ode to Joy close-up the fingers lie along the pressed keys and hide most of
their tops: the cue is for views that show the keys' tops beside the fingers.
"""
from __future__ import annotations

import warnings

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, WHITE_KEY_WIDTH, KeyMap, apply_homography, is_black, key_span
from pianocam.hands.tracker import Hands
from pianocam.notes.vision import BONES, white_key_top

# Set on the real partial-keyboard clip (its blind labels; benchmarks/fingering_real.py, row "surface"): the Ode
# to Joy close-up and the rendered scenes are the check.
STEP_FRAMES = 2           # a step: each sample's median over this many frames before it against this many from it on
DROP = 8.0                # grey levels (8-bit) darker at the step ...
HOLD = 6.0                # ... and still this much darker HOLD_FRAMES on (a passing shadow is not held)
HOLD_FRAMES = (3, 10)
SHARE = 75                # the key's step: this percentile of its samples' steps (a finger's shade hides part of it)
BRIGHTEN = 3.0            # a black key: the strips on both its sides (each side's median) this much brighter ...
BRIGHT_HOLD = 4.0         # ... and still this much brighter HOLD_FRAMES on
STRIP_MM = 4.0            # a black key's strips: the white keys' tops within this of its sides, behind the fronts
TIP_MM = 3.0              # a fingertip within this of the key's sides (keyboard plane) ...
TIP_FRAMES = 2            # ... within this many frames of the step
MASK_MM = 3.5             # a hand covers its landmarks' outline and this much either side of its bones
MIN_SAMPLES = 4           # samples of a white key seen on both sides of a step for it to count
MIN_STRIP = 3             # samples of each strip beside a black key
NMS_FRAMES = 6            # one press per key within this many frames either side: its deepest step


def surface_points(keymap: KeyMap, midi: int) -> np.ndarray:
    """Points (keyboard plane, mm) over a white key's top: between the black keys and in front of them."""
    x0, x1 = key_span(midi)
    return white_key_top(midi, np.linspace(x0 + 2.0, x1 - 2.0, 5), np.linspace(8.0, keymap.black_key_length - 3, 6),
                         np.linspace(keymap.black_key_length + 4, 140.0, 10))


class KeySurfaceLevels:
    """Per frame, the grey level at each sample point of the white keys' tops (NaN where a hand covers it or it
    is out of the picture); `white` and `black` say which samples belong to which key."""

    def __init__(self, keymap: KeyMap):
        self.keymap = keymap
        self.midis = [m for m in keymap.midis if not is_black(m)]
        plane = [surface_points(keymap, m) for m in self.midis]
        self._plane = np.vstack(plane) if plane else np.zeros((0, 2))
        self._key = np.repeat(np.arange(len(plane)), [len(p) for p in plane])       # each point's white key
        self._points = keymap.to_image(self._plane) if len(self._plane) else np.zeros((0, 2))   # key map frame, px
        self.white = [np.flatnonzero(self._key == k) for k in range(len(self.midis))]
        self.blacks, self.strips = self._strips(keymap)
        self._own = self._points.round().astype(int)                                # where the hand mask is looked up
        width, height = keymap.image_size
        self._in_map = ((self._own[:, 0] >= 0) & (self._own[:, 0] < width)
                        & (self._own[:, 1] >= 0) & (self._own[:, 1] < height))
        self._pad = max(1, int(round(MASK_MM * keymap.white_key_width_px / WHITE_KEY_WIDTH)))

    def _strips(self, keymap: KeyMap) -> tuple[list[int], list[tuple[np.ndarray, np.ndarray]]]:
        """The black keys with a white neighbour on each side, and per black key the samples (left, right) of
        its neighbours' tops within STRIP_MM of its sides, behind the black keys' fronts."""
        behind = self._plane[:, 1] < keymap.black_key_length
        blacks, strips = [], []
        for midi in (m for m in keymap.midis if is_black(m)):
            if midi - 1 not in self.midis or midi + 1 not in self.midis:
                continue
            x0, x1 = key_span(midi)
            x = self._plane[:, 0]
            left = np.flatnonzero((self._key == self.midis.index(midi - 1)) & behind & (x >= x0 - STRIP_MM) & (x < x0))
            right = np.flatnonzero((self._key == self.midis.index(midi + 1)) & behind & (x > x1) & (x <= x1 + STRIP_MM))
            if len(left) and len(right):
                blacks.append(midi)
                strips.append((left, right))
        return blacks, strips

    def update(self, image: np.ndarray, hands: Hands, homography: np.ndarray | None = None) -> np.ndarray:
        """`hands` in the key map's frame (hands.steady.in_reference where the camera moves); `homography`:
        the camera's motion from the key map's frame to this one (None: the camera is still)."""
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        height, width = grey.shape[:2]
        mask = hand_mask(self.keymap.image_size, hands, self._pad)
        at = self._points if homography is None else apply_homography(homography, self._points)
        clear = (self._in_map & (at[:, 0] >= 0) & (at[:, 0] < width - 1) & (at[:, 1] >= 0) & (at[:, 1] < height - 1))
        clear[clear] = mask[self._own[clear, 1], self._own[clear, 0]] == 0
        samples = np.full(len(at), np.nan, np.float32)
        px = at[clear].round().astype(int)
        samples[clear] = grey[px[:, 1], px[:, 0]]
        return samples


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


def sample_steps(samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(frames, samples): how much darker each sample is from each frame on than just before it (the step), and
    HOLD_FRAMES later (the hold); NaN where the sample is unseen on either side."""
    n = len(samples)
    drop, held = np.full(samples.shape, np.nan), np.full(samples.shape, np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)     # all-NaN windows: a covered sample stays NaN
        for i in range(STEP_FRAMES, n - STEP_FRAMES):
            before = np.nanmedian(samples[i - STEP_FRAMES:i], axis=0)
            drop[i] = before - np.nanmedian(samples[i:i + STEP_FRAMES], axis=0)
            if i + HOLD_FRAMES[0] < n:
                held[i] = before - np.nanmedian(samples[i + HOLD_FRAMES[0]:min(n, i + HOLD_FRAMES[1])], axis=0)
    return drop, held


def _pooled(values: np.ndarray, columns: np.ndarray, least: int, share: float) -> np.ndarray:
    """Per frame, the `share` percentile of `values` over `columns`, where at least `least` of them are seen;
    NaN elsewhere."""
    part = values[:, columns]
    seen = (~np.isnan(part)).sum(axis=1) >= least
    out = np.full(len(values), np.nan)
    if seen.any():
        out[seen] = np.nanpercentile(part[seen], share, axis=1)
    return out


def surface_steps(samples: np.ndarray, levels: KeySurfaceLevels) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The white keys' steps darker and holds (frames, white keys), then the black keys' steps brighter and
    holds (frames, black keys): each strip's median, the lesser of a black key's two sides; 0 where unseen."""
    drop, held = sample_steps(samples)
    pooled = [[_pooled(values, columns, MIN_SAMPLES, SHARE) for columns in levels.white] for values in (drop, held)]
    white_drop, white_held = (np.array(p).T.reshape(len(samples), len(levels.white)) for p in pooled)
    sides = [[np.minimum(*(-_pooled(values, side, MIN_STRIP, 50) for side in strip)) for strip in levels.strips]
             for values in (drop, held)]
    black_drop, black_held = (np.array(p).T.reshape(len(samples), len(levels.strips)) for p in sides)
    return tuple(np.nan_to_num(a) for a in (white_drop, white_held, black_drop, black_held))


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


def _deepest(step: np.ndarray, candidate: np.ndarray, midis: list[int]) -> list[tuple[int, int]]:
    """(midi, frame) of each candidate that is its key's deepest step within NMS_FRAMES (the earlier on a tie)."""
    presses = []
    for k, midi in enumerate(midis):
        for i in np.flatnonzero(candidate[:, k]):
            lo, hi = max(0, i - NMS_FRAMES), min(len(step), i + NMS_FRAMES + 1)
            here = step[lo:hi, k]
            deeper = candidate[lo:hi, k] & ((here > here[i - lo]) | ((here == here[i - lo]) & (np.arange(lo, hi) < i)))
            if not deeper.any():
                presses.append((int(midi), int(i)))
    return presses


def surface_presses(samples: np.ndarray, levels: KeySurfaceLevels, tips: list[np.ndarray]) -> list[tuple[int, int]]:
    """(midi, frame) of each press: a white key stepping DROP darker and held HOLD darker, or a black key whose
    strips step BRIGHTEN brighter on both sides and stay BRIGHT_HOLD brighter, with a fingertip on the key,
    the deepest such step of that key within NMS_FRAMES. samples: (frames, points) of KeySurfaceLevels.update;
    tips: per frame the fingertips on the keyboard plane."""
    white_drop, white_held, black_drop, black_held = surface_steps(samples, levels)
    white = (white_drop >= DROP) & (white_held >= HOLD) & fingertip_on(tips, levels.midis)
    black = (black_drop >= BRIGHTEN) & (black_held >= BRIGHT_HOLD) & fingertip_on(tips, levels.blacks)
    presses = _deepest(white_drop, white, levels.midis) + _deepest(black_drop, black, levels.blacks)
    return sorted(presses, key=lambda p: (p[1], p[0]))

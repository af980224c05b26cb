"""Where the keys stop: walk along the white keys to the instrument's body, or to the frame's edge."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, apply_homography, is_black, key_span

BRIGHT = 0.6               # locally normalised grey of a white key
DARK = 0.45                # ... and of what is surely no white key
COLUMNS = 8                # sample columns across a key
MIN_SEEN = 0.4             # share of a key's width that must lie in the frame to judge it
LOOK_AHEAD = 4              # white keys past a dark pair in which keys may resume (a hand spans about four)
CONTINUITY = 0.55          # a white key is at least this bright against the white key before it


@dataclass(frozen=True)
class Slot:
    """How one white key's place looks: state, share of its width in the frame."""

    state: str     # "white", "dark" (surely no white key), "unclear", "off" (too little in view)
    seen: float    # 0..1
    grey: float = 0.0   # the slot's grey level (0..255), to compare with its neighbour


def _points(plane_to_image: np.ndarray, xs, ys) -> np.ndarray:
    gx, gy = np.meshgrid(np.asarray(xs, float), np.asarray(ys, float))
    return apply_homography(plane_to_image, np.column_stack([gx.ravel(), gy.ravel()])).reshape(len(ys), len(xs), 2)


def _inside(pts: np.ndarray, shape) -> np.ndarray:
    h, w = shape
    return (pts[..., 0] >= 0) & (pts[..., 1] >= 0) & (pts[..., 0] <= w - 1) & (pts[..., 1] <= h - 1)


def slot(norm: np.ndarray, plane_to_image: np.ndarray, midi: int, black_length: float,
         grey: np.ndarray | None = None) -> Slot:
    """Judge the white key `midi` from the part of it that lies in the frame.

    A white key is bright at the back between its black neighbours and on its wide front
    part (a hand seldom covers both), and its front is evenly lit: a body, a cheek block,
    felt or a light bar is dark, coloured or patterned.
    """
    x0, x1 = key_span(midi)
    lo = key_span(midi - 1)[1] if is_black(midi - 1) else x0
    hi = key_span(midi + 1)[0] if is_black(midi + 1) else x1
    back = _points(plane_to_image, np.linspace(lo + 2, hi - 2, COLUMNS), np.linspace(8, black_length - 10, 5))
    front = _points(plane_to_image, np.linspace(x0 + 3, x1 - 3, COLUMNS),
                    np.linspace(black_length + 8, WHITE_KEY_LENGTH - 8, 6))
    cols = _inside(back, norm.shape).all(axis=0) & _inside(front, norm.shape).all(axis=0)
    seen = float(cols.mean())
    if seen < MIN_SEEN:
        return Slot("off", seen)
    levels, greys = [], []
    for pts in (back, front):
        p = pts[:, cols].astype(np.float32)
        levels.append(float(np.median(cv2.remap(norm, p[..., 0], p[..., 1], cv2.INTER_LINEAR))))
        if grey is not None:
            greys.append(float(np.median(cv2.remap(grey, p[..., 0], p[..., 1], cv2.INTER_LINEAR))))
    level = max(levels)
    g = max(greys) if greys else 0.0
    if level > BRIGHT:
        return Slot("white", seen, g)
    return Slot("dark" if level < DARK else "unclear", seen, g)


@dataclass(frozen=True)
class Side:
    """One side's walk: the last white key (relative MIDI) and what lies beyond it."""

    last: int | None        # last slot that looks like a white key
    beyond: str             # "body" (no key: dark or no key texture), "border", "unclear"
    end: bool               # the last key is the keyboard's end
    reach: int | None       # the outermost key with any part in the frame (for edge-to-edge counts)


def walk(norm: np.ndarray, plane_to_image: np.ndarray, labels: list[int], row_x: np.ndarray,
         black_length: float, grey: np.ndarray | None = None) -> dict[str, Side]:
    """Walk outwards from the black keys found along the white keys, on both sides.

    The walk stops at the first slot that is no white key: keys beyond are never mapped.
    That slot is the keyboard's end only when the slot after it is no white key either
    and no black key was seen further out (a hand or a shadow leaves black keys beyond).
    """
    out = {}
    for side, step in (("left", -1), ("right", 1)):
        midi = min(labels) - 1 if step < 0 else max(labels) + 1
        last, beyond, end, ref = None, "unclear", False, 0.0
        for _ in range(60):
            if is_black(midi):
                midi += step
                continue
            s = slot(norm, plane_to_image, midi, black_length, grey)
            if s.state == "white" and s.grey < CONTINUITY * ref and not _black_beside(grey, plane_to_image, midi,
                                                                                        step, black_length, s.grey):
                # Light wood or plastic beside the keys can be the brightest thing near it: as bright
                # as a key locally, far darker than the key before it, and no black key beside it.
                s = Slot("unclear", s.seen, s.grey)
            if s.state == "white":
                last, ref = midi, s.grey
                if s.seen < 1.0:
                    beyond = "border"
                    break
                midi += step
                continue
            if s.state == "off":
                beyond = "border"
                break
            x_end = key_span(midi)[1 if step < 0 else 0]
            if np.any(row_x < x_end) if step < 0 else np.any(row_x > x_end):
                # Black keys further out: the keys go on under a hand or a shadow.
                last = midi
                midi += step
                continue
            nxt = midi + step + (step if is_black(midi + step) else 0)
            after = slot(norm, plane_to_image, nxt, black_length, grey)
            after = ("unclear" if after.state == "white" and after.grey < CONTINUITY * ref
                     and not _black_beside(grey, plane_to_image, nxt, step, black_length, after.grey) else after.state)
            if last is not None and after != "white":
                resume, at_border = _keys_resume(norm, plane_to_image, nxt, step, black_length, grey, ref)
                if resume is not None:
                    # White keys again further out, before the frame's edge: a hand or a glow over
                    # these, not the instrument's end (a body does not turn back into keys).
                    last, midi = resume, resume + step
                    if at_border:
                        beyond = "border"
                        break
                    continue
                beyond, end = "body", True
            break
        known = last if last is not None else (min(labels) if step < 0 else max(labels))
        out[side] = Side(last=last, beyond=beyond, end=end, reach=_reach(plane_to_image, norm.shape, known, step))
    return out


def _keys_resume(norm, plane_to_image, midi: int, step: int, black_length: float, grey,
                 ref: float) -> tuple[int | None, bool]:
    """(outermost white key, whether the frame's edge follows) where keys resume past `midi`, else (None, False).

    Keys resume when two white-key slots follow within LOOK_AHEAD white keys, or one and then the
    frame's edge; slots between may be unclear (a glow) but not dark once a white one was seen.
    """
    whites, border = [], False
    for _ in range(LOOK_AHEAD):
        midi += step
        if is_black(midi):
            midi += step
        s = slot(norm, plane_to_image, midi, black_length, grey)
        if s.state == "dark" and whites:
            break
        if s.state == "white" and not (s.grey < CONTINUITY * ref and not _black_beside(
                grey, plane_to_image, midi, step, black_length, s.grey)):
            whites.append(midi)
        if s.seen < 1.0:
            border = True    # the slot runs off the frame (as in the walk): the keys reach its edge
            break
    if len(whites) >= 2 or (whites and border):
        return whites[-1], border
    return None, False


def _black_beside(grey, plane_to_image, midi: int, step: int, black_length: float, level: float) -> bool:
    """Whether a black key lies next to white key `midi` (outwards or inwards), much darker than it."""
    if grey is None:
        return False
    h, w = grey.shape
    for black in (midi + step, midi - step):
        if not is_black(black):
            continue
        x0, x1 = key_span(black)
        pts = _points(plane_to_image, np.linspace(x0 + 3, x1 - 3, 3), np.linspace(15, black_length - 15, 4))
        if not _inside(pts, grey.shape).all():
            continue
        p = pts.astype(np.float32)
        if float(np.median(cv2.remap(grey, p[..., 0], p[..., 1], cv2.INTER_LINEAR))) < 0.5 * level:
            return True
    return False


def _reach(plane_to_image, shape, last, step) -> int:
    """The outermost key past `last` with any part of its front in the frame."""
    midi = last
    for _ in range(60):
        nxt = midi + step
        x0, x1 = key_span(nxt)
        pts = _points(plane_to_image, np.linspace(x0 + 1, x1 - 1, 4), [WHITE_KEY_LENGTH * 0.3, WHITE_KEY_LENGTH * 0.8])
        if not _inside(pts, shape).any():
            return midi
        midi = nxt
    return midi

"""Fingertip-crop clips for seed 003's network: 12 frames around a moment, one square fixed over one fingertip.

The network pools its features over the whole crop, so it cannot tell where in a crop something
moved: each clip is centred on one candidate fingertip and the network says whether that finger
struck (and which finger it looks like) or not. The square is fixed for the whole clip (where the
tip was at the reference frame) so the finger's motion shows against the keys, and sized in
white-key widths, so a close-up and a whole-keyboard view give crops of the same scale.
"""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.hands.tracker import FINGERTIPS, Hands

FRAMES, SIZE = 12, 128
SCHEMA = "fingertip-crops-v2/12x128"   # the feature schema a model trained on these clips declares
# The clip ends this many frames after the reference frame (the onset): the finger moves in the
# frames before the sound (labelled real clip: the motion peaks ~2 frames, 65 ms, before it).
AFTER = 3
# Side of the square in white-key widths: the finger and its key, its neighbours (a key away) mostly
# outside, since the network cannot tell where in its crop a motion was.
SPAN_KEYS = 1.6


def clip_frames(reference: int) -> range:
    """Frame indices of the clip whose reference (onset) frame is `reference`."""
    return range(reference - (FRAMES - 1 - AFTER), reference + AFTER + 1)


def crop_box(hands: Hands, side: str, finger: int, key_width_px: float) -> tuple[float, float, float] | None:
    """(centre x, centre y, side) in pixels of the square over one fingertip (1-5); None if the hand is unseen."""
    hand = hands.side(side)
    if hand is None:
        return None
    cx, cy = hand.landmarks[FINGERTIPS[finger], :2]
    return float(cx), float(cy), SPAN_KEYS * key_width_px


def crop(image: np.ndarray, box: tuple[float, float, float]) -> np.ndarray:
    """The box cut out of a BGR image (padded with black off the frame), resized to SIZE×SIZE."""
    cx, cy, side = box
    scale = SIZE / side
    # One affine warp: crops and resizes, and pads where the square leaves the frame.
    matrix = np.array([[scale, 0, SIZE / 2 - scale * cx], [0, scale, SIZE / 2 - scale * cy]])
    return cv2.warpAffine(image, matrix, (SIZE, SIZE), flags=cv2.INTER_AREA, borderValue=(0, 0, 0))


def normalise(clips_bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR (…, H, W, 3) → float32 RGB (…, 3, H, W), the manifest's `(pixel / 255 - 0.5) / 0.5`."""
    rgb = clips_bgr[..., ::-1].astype(np.float32) / 255.0
    return np.moveaxis((rgb - 0.5) / 0.5, -1, -3)


def cut_clips(video: str, frames, chosen, keymap) -> np.ndarray:
    """(N, 12, 128, 128, 3) uint8 BGR crops for (reference frame, side, finger, ...) rows, reading the video once."""
    from pianocam.sources.video import VideoFileSource

    out = np.zeros((len(chosen), FRAMES, SIZE, SIZE, 3), np.uint8)
    boxes = [crop_box(frames[c[0]], c[1], c[2], keymap.white_key_width_px) for c in chosen]
    wanted: dict[int, list[tuple[int, int]]] = {}
    for n, c in enumerate(chosen):
        for slot, index in enumerate(clip_frames(c[0])):
            wanted.setdefault(min(max(index, 0), len(frames) - 1), []).append((n, slot))
    with VideoFileSource(video, realtime=False) as source:
        index = 0
        while (frame := source.read()) is not None:
            for n, slot in wanted.get(index, []):
                out[n, slot] = crop(frame.image, boxes[n])
            index += 1
    return out

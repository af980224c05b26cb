"""Vision evidence for one note: how far each fingertip of each hand is from the key, in key widths,
and what the fingertips did at the onset (which one went down and stopped)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_WIDTH, KeyMap, key_length, strike_point
from pianocam.hands.tracker import FINGERTIPS, Hands

SIDES = ("left", "right")
# Fingers strike anywhere along a key's length, so distance along the key counts for less
# than distance across it (where the neighbouring key begins half a width away).
ALONG_KEY_WEIGHT = 0.3
KNUCKLES = (2, 5, 9, 13, 17)   # MediaPipe's base joint of each finger, thumb to little finger


@dataclass(frozen=True)
class EvidenceRule:
    """What counts beyond distance, where two fingertips compete for one key (weights in cost units;
    0 leaves a cue out). Measured on the real labelled notes (benchmarks/fingering_real.py): with each
    clip's key map carried along its hand-held camera, no cue at weight 1 changes a note (39/40 with or
    without; depth 2: 36/40). Depth 1 gained 2 notes only while the partial clip's map was left behind
    (34 → 36/40), and cost `pianocam practice`'s real test 3 of 29 (its clock offset is estimated): a cue
    that needs exact timing. No cue helped, so all are off."""

    along: float = ALONG_KEY_WEIGHT  # weight of distance beyond the key's ends against distance across it
    smooth: int = 0                  # landmarks averaged over this many frames either side of each frame
    stillness: float = 0.0           # per key width a fingertip moves per frame after the onset
    depth: float = 0.0               # per key width a fingertip stands less low (beside its knuckle) than the lowest
    descent: float = 0.0             # per key width a fingertip went down less than the most descending one


DEFAULT_RULE = EvidenceRule()


def key_position(keymap: KeyMap, midi: int) -> float:
    """Where a key lies along the keyboard, in white-key widths from the left of C-1."""
    return float(strike_point(midi, keymap.black_key_length)[0] / WHITE_KEY_WIDTH)


TIP_INDEX = list(FINGERTIPS.values())


def fingertip_distances(hands: Hands, keymap: KeyMap, midi: int, along: float = ALONG_KEY_WEIGHT) -> np.ndarray:
    """(2, 5) distances in white-key widths from each fingertip (left, right hand) to the key; inf if unseen.
    Of two hands of one side (two players), the one with a fingertip nearer the key."""
    distances = np.full((2, 5), np.inf)
    target = strike_point(midi, keymap.black_key_length)
    length = key_length(midi, keymap.black_key_length)
    for hand in hands.hands:
        row = SIDES.index(hand.side)
        tips = keymap.to_plane(hand.landmarks[TIP_INDEX, :2])
        across = np.abs(tips[:, 0] - target[0])
        # Along the key: no cost anywhere on its length, growing beyond its ends.
        beyond = np.maximum(0.0, np.maximum(-tips[:, 1], tips[:, 1] - length))
        near = np.hypot(across, along * beyond) / WHITE_KEY_WIDTH
        # A duet (tracker.max_hands = auto tracks up to four) brings two hands of a side: the one nearer
        # the key stands for its side at this note.
        if near.min() < distances[row].min():
            distances[row] = near
    return distances


def smoothed(frames: list[Hands], radius: int) -> list[Hands]:
    """Each frame's landmarks averaged with those of the same hand in the `radius` frames either side."""
    if radius <= 0:
        return frames
    out = []
    for i, hands in enumerate(frames):
        near = frames[max(0, i - radius): i + radius + 1]
        new = []
        for hand in hands.hands:
            same = [h.landmarks for f in near for h in f.hands if h.side == hand.side]
            new.append(type(hand)(hand.side, hand.score, np.mean(same, axis=0), hand.normalized))
        out.append(Hands(hands.frame_index, hands.t, hands.width, hands.height, new))
    return out


def note_evidence(frames: list[Hands], keymap: KeyMap, midi: int, rule: EvidenceRule = DEFAULT_RULE) -> np.ndarray:
    """Per hand and finger, the closest any frame around the onset brought that fingertip to the key."""
    best = np.full((2, 5), np.inf)
    for hands in frames:
        best = np.minimum(best, fingertip_distances(hands, keymap, midi, rule.along))
    return best


def _series(frames: list[Hands], side: str) -> tuple[np.ndarray, np.ndarray]:
    """Times and (n, 21, 3) landmarks of one hand over the frames that show it."""
    seen = [(f.t, h.landmarks) for f in frames for h in f.hands if h.side == side]
    if not seen:
        return np.zeros(0), np.zeros((0, 21, 3))
    return np.array([t for t, _ in seen]), np.array([lm for _, lm in seen])


def motion_penalty(frames: list[Hands], t: float, keymap: KeyMap, rule: EvidenceRule,
                   after: float) -> np.ndarray:
    """(2, 5) extra cost per fingertip from what it did around onset time t (frames up to t + after):
    the pressing finger has gone down and stopped; its neighbours have not."""
    penalty = np.zeros((2, 5))
    if not (rule.stillness or rule.depth or rule.descent):
        return penalty
    width_px = keymap.white_key_width_px
    for row, side in enumerate(SIDES):
        times, marks = _series(frames, side)
        if len(times) < 2:
            continue
        at = (times >= t - 1e-6) & (times <= t + after + 1e-6)
        if rule.stillness and at.sum() >= 1:
            plane = np.array([keymap.to_plane(m[TIP_INDEX, :2]) for m in marks])
            step = np.linalg.norm(np.diff(plane, axis=0), axis=2) / WHITE_KEY_WIDTH   # (n-1, 5) per frame
            moving = at[1:] | at[:-1]
            if moving.any():
                penalty[row] += rule.stillness * step[moving].mean(axis=0)
        # MediaPipe's z grows away from the camera: a tip pushed into a key stands low beside its knuckle.
        low = (marks[:, TIP_INDEX, 2] - marks[:, list(KNUCKLES), 2]) / width_px     # (n, 5)
        if rule.depth and at.any():
            lowness = low[at].mean(axis=0)
            penalty[row] += rule.depth * (lowness.max() - lowness)
        before = times < t - 0.05
        if rule.descent and at.any() and before.any():
            went_down = low[at].mean(axis=0) - low[before][-3:].mean(axis=0)
            penalty[row] += rule.descent * (went_down.max() - went_down)
    return penalty

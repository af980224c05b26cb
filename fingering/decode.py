"""Decoding fingers over a hand's note sequence (Viterbi) under the anatomy of a hand."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FINGERS = np.arange(1, 6)
# Evidence: a fingertip d white-key widths from the key costs (d / SIGMA)^2 / 2.
SIGMA = 0.45
# How much the anatomy counts against the camera's evidence.
ANATOMY_WEIGHT = 0.5
CHORD_WINDOW = 0.04  # notes struck within this many seconds belong to one chord
# Widest comfortable reach between two fingers of one hand, in white-key widths
# (an adult hand spans about an octave, 8 white keys, from thumb to little finger).
MAX_SPAN = np.array([
    [0, 4.5, 6, 7, 8.5],
    [4.5, 0, 2.5, 3.5, 5],
    [6, 2.5, 0, 2.5, 3.5],
    [7, 3.5, 2.5, 0, 2.5],
    [8.5, 5, 3.5, 2.5, 0],
])


def evidence_cost(distances: np.ndarray) -> np.ndarray:
    """Cost per finger from its fingertip's distance to the key (inf when unseen)."""
    d = np.where(np.isfinite(distances), distances, 50.0)
    return 0.5 * (d / SIGMA) ** 2


def transition_cost(hand: str, step: float, gap: float, same_pitch: bool) -> np.ndarray:
    """(5, 5) cost of finger a then finger b for a move of `step` white keys after `gap` seconds."""
    sign = 1.0 if hand == "right" else -1.0
    a = FINGERS[:, None]
    b = FINGERS[None, :]
    toward = sign * step  # positive: towards the little finger's side
    natural = (b - a).astype(float)
    cost = 0.15 * np.abs(toward - natural)
    crossing = ((a > 1) & (b == 1) & (toward > 0)) | ((a == 1) & (b > 1) & (b < 5) & (toward < 0))
    wrong_order = ~crossing & (a != b) & (np.sign(natural) != np.sign(toward)) & (toward != 0)
    cost = cost + np.where(crossing, 1.0, 0.0) + np.where(wrong_order, 4.0, 0.0)
    same = a == b
    if same_pitch:
        cost = np.where(same, 0.0, cost + 0.5)
    else:
        cost = np.where(same, 1.5 + 0.3 * abs(step), cost)
    if gap < CHORD_WINDOW and not same_pitch:
        # In a chord each finger takes one key, and fingers follow the keys' order (a transcribed
        # chord's notes can arrive in any pitch order, a few ms apart). The same key twice within
        # the window is one keystroke reported twice: the same finger, at no cost.
        cost = np.where(same | (np.sign(b - a) != np.sign(toward)), np.inf, cost)
    if gap < 0.3:
        cost = cost + np.where(abs(step) > MAX_SPAN[a - 1, b - 1], 6.0, 0.0)
    return cost


def viterbi(hand: str, evidence: np.ndarray, positions: list[float], onsets: list[float],
            pitches: list[int], extra: list[np.ndarray] | None = None) -> tuple[list[int], np.ndarray]:
    """Best finger (1-5) per note of one hand, and each note's evidence cost row (n, 5).
    extra: per note, cost from cues beyond distance (fingertip motion), added to the evidence."""
    n = len(positions)
    if n == 0:
        return [], np.zeros((0, 5))
    costs = np.array([evidence_cost(row) for row in evidence])
    if extra is not None:
        costs = costs + np.array(extra)
    total = costs[0].copy()
    back = np.zeros((n, 5), dtype=int)
    for i in range(1, n):
        trans = transition_cost(hand, positions[i] - positions[i - 1], onsets[i] - onsets[i - 1],
                                pitches[i] == pitches[i - 1])
        scores = total[:, None] + ANATOMY_WEIGHT * trans
        back[i] = np.argmin(scores, axis=0)
        previous = total
        total = scores[back[i], np.arange(5)] + costs[i]
        if not np.isfinite(total).any():  # an impossible chord (more notes than fingers): start afresh
            back[i] = np.argmin(previous)  # the best history so far, whatever this note's finger
            total = costs[i].copy()
    path = [int(np.argmin(total))]
    for i in range(n - 1, 0, -1):
        path.append(int(back[i][path[-1]]))
    path.reverse()
    return [p + 1 for p in path], costs


@dataclass
class HandState:
    """What online decoding remembers of one hand: the best cost of ending on each finger."""

    total: np.ndarray
    position: float
    onset: float
    pitch: int


def step_decode(hand: str, evidence_row: np.ndarray, state: HandState | None,
                position: float, onset: float, pitch: int,
                extra: np.ndarray | None = None) -> tuple[int, np.ndarray, HandState]:
    """Online Viterbi: extend the hand's forward costs by one note and pick its best finger.

    Unlike keeping only the last decided finger, every finger's best history stays alive, so
    one doubtful note does not drag the next ones with it.
    """
    cost = evidence_cost(evidence_row) + (0.0 if extra is None else extra)
    total = cost.copy()
    if state is not None and onset - state.onset < 2.0:
        trans = transition_cost(hand, position - state.position, onset - state.onset, pitch == state.pitch)
        scores = state.total[:, None] + ANATOMY_WEIGHT * trans
        best = scores.min(axis=0)
        if np.isfinite(best).any():
            total = best - np.nanmin(best[np.isfinite(best)]) + cost
    finger = int(np.argmin(total)) + 1
    return finger, cost, HandState(total, position, onset, pitch)


def confidence(cost_row: np.ndarray, finger: int) -> float:
    """Share of the evidence that points at the chosen finger (a softmax over the five)."""
    weights = np.exp(-(cost_row - cost_row.min()))
    return float(weights[finger - 1] / weights.sum())

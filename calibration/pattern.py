"""Name black keys from their 2-and-3 grouping: a 1-D projective fit along the keyboard."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

logger = logging.getLogger(__name__)

BLACK_PCS = (1, 3, 6, 8, 10)
# Semitone numbers are relative to this C until the keyboard's ends (or the user) fix the
# octave; only the pitch class of a label is known from the pattern alone.
REFERENCE_C = 60
SEED = 3                # consecutive candidates that seed a hypothesis
SEED_RMS = 0.12         # semitone widths: how well a seed window must fit its phase
INLIER_TOLERANCE = 0.3  # semitone widths between a key and its predicted place
MIN_KEYS = 6            # fewer black keys cannot show both a group of two and of three


@dataclass(frozen=True)
class PatternFit:
    """Relative MIDI label per input position (-1: not a black key) and fit quality."""

    labels: np.ndarray
    rms: float            # residual, semitone widths
    inliers: int
    margin: int           # keys by which this naming beats the best rival naming
    model: tuple          # (a, b, c): t = (a s + b) / (c s + 1), s = midi + 0.5

    def position(self, midi) -> np.ndarray:
        a, b, c = self.model
        s = np.asarray(midi, float) + 0.5
        return (a * s + b) / (c * s + 1)


def black_run(first_pc: int, count: int) -> np.ndarray:
    """`count` consecutive black keys starting at pitch class `first_pc` of REFERENCE_C's octave."""
    out, midi = [], REFERENCE_C + first_pc
    while len(out) < count:
        if midi % 12 in BLACK_PCS:
            out.append(midi)
        midi += 1
    return np.array(out)


def _fit(s: np.ndarray, t: np.ndarray, projective: bool) -> tuple:
    if projective:
        # t (c s + 1) = a s + b  ->  linear in a, b, c.
        m = np.column_stack([s, np.ones_like(s), -s * t])
        (a, b, c), *_ = np.linalg.lstsq(m, t, rcond=None)
        return a, b, c
    (a, b), *_ = np.linalg.lstsq(np.column_stack([s, np.ones_like(s)]), t, rcond=None)
    return a, b, 0.0


def _to_semitones(model: tuple, t: np.ndarray) -> np.ndarray:
    a, b, c = model
    return (t - b) / (a - c * t)


def _grow(model: tuple, t: np.ndarray, seed: np.ndarray, seed_labels: np.ndarray) -> tuple:
    """Extend a seed outwards one position at a time, refitting as keys are accepted.

    Growing from the nearest position keeps one stray blob far away from bending the
    model before the keys between have pinned it down.
    """
    labels = np.full(len(t), -1)
    labels[seed] = seed_labels
    undecided = set(range(len(t))) - set(seed.tolist())
    while undecided:
        ok = labels >= 0
        near = min(undecided, key=lambda i: np.min(np.abs(t[ok] - t[i])))
        undecided.discard(near)
        s = _to_semitones(model, t[near:near + 1])[0]
        midi = int(np.round(s - 0.5))
        if midi % 12 not in BLACK_PCS or abs(s - (midi + 0.5)) > INLIER_TOLERANCE or midi in labels:
            continue
        labels[near] = midi
        ok = labels >= 0
        model = _fit(labels[ok] + 0.5, t[ok], projective=ok.sum() >= 10)
    ok = labels >= 0
    resid = _to_semitones(model, t[ok]) - (labels[ok] + 0.5)
    return labels, model, float(np.sqrt(np.mean(resid ** 2)))


def _signature(labels: np.ndarray) -> tuple:
    """Labels up to a whole number of octaves: fits that differ only by octaves are one fit."""
    ok = labels >= 0
    if not ok.any():
        return ()
    shift = 12 * ((labels[ok][0] - REFERENCE_C) // 12)
    return tuple(np.where(ok, labels - shift, -1).tolist())


def _seeds(t: np.ndarray):
    """(indices, labels) of three consecutive positions under every plausible naming.

    Each position after the first is the next black key or the one after (one key
    hidden), so a hand over the keys still leaves seeds.
    """
    for i in range(len(t) - SEED + 1):
        for pc in BLACK_PCS:
            run = black_run(pc, 2 * SEED)
            for skips in np.ndindex(*(2,) * (SEED - 1)):
                picks = np.r_[0, np.cumsum(np.array(skips) + 1)]
                yield np.arange(i, i + SEED), run[picks]


def shift_support(model: tuple, t: np.ndarray) -> np.ndarray:
    """For each shift k = 0..11 of the names: positions on a black key, less black keys missing.

    A shift by a fourth or a fifth keeps four of the five black pitch classes black, so
    only the keys that tell the shifts apart decide the naming. A shifted naming also
    expects a black key where a white one is, and none is seen there: that counts against it.
    """
    s = _to_semitones(model, t)
    midi = np.round(s - 0.5).astype(int)
    close = np.abs(s - (midi + 0.5)) < INLIER_TOLERANCE
    seen = set(midi[close].tolist())
    span = np.arange(midi[close].min(), midi[close].max() + 1) if close.any() else np.arange(0)
    out = []
    for k in range(12):
        on_black = int(np.sum(close & np.isin((midi + k) % 12, BLACK_PCS)))
        missing = sum(1 for m in span if (m + k) % 12 in BLACK_PCS and m not in seen)
        out.append(on_black - missing)
    return np.array(out)


def label_black_keys(t) -> PatternFit | None:
    """Label positions `t` (sorted, along the keyboard) of black-key candidates; None: no pattern."""
    t = np.asarray(t, float)
    if len(t) < SEED:
        return None
    fits = {}
    for idx, seed_labels in _seeds(t):
        if any(np.all((f[2][idx] - seed_labels) % 12 == 0) for f in fits.values()):
            continue  # an earlier seed already grew into this fit
        s = seed_labels + 0.5
        model = _fit(s, t[idx], projective=False)
        if model[0] <= 0:
            continue
        rms = np.sqrt(np.mean((t[idx] - (model[0] * s + model[1])) ** 2)) / model[0]
        if rms > SEED_RMS:
            continue
        labels, grown, grown_rms = _grow(model, t, idx, seed_labels)
        key = _signature(labels)
        inliers = int((labels >= 0).sum())
        if key and (key not in fits or fits[key][1] > grown_rms):
            fits[key] = (inliers, grown_rms, labels, grown)
    if not fits:
        return None
    # Rank by support: keys on the pattern, less the black keys the naming expects but
    # nobody saw. Rivals are other fits naming the shared keys differently, and the same
    # geometry with every name shifted.
    scored = [(int(shift_support(f[3], t)[0]), f) for f in fits.values()]
    scored.sort(key=lambda sf: (-sf[0], -sf[1][0], sf[1][1]))
    best_score, (inliers, rms, labels, model) = scored[0]
    support = shift_support(model, t)
    margin = int(best_score - max(support[1:]))
    for score, other in scored[1:]:
        shared = (other[2] >= 0) & (labels >= 0)
        if shared.any() and np.any((other[2][shared] - labels[shared]) % 12 != 0):
            margin = min(margin, best_score - score)
    shift = 12 * ((labels[labels >= 0][0] - REFERENCE_C) // 12)
    labels = np.where(labels >= 0, labels - shift, -1)
    a, b, c = model
    # Re-express the model for the shifted labels: s' = s - shift.
    model = (a / (1 + c * shift), (b + a * shift) / (1 + c * shift), c / (1 + c * shift))
    logger.debug("pattern: %d of %d labelled, rms %.3f, margin %d", inliers, len(t), rms, margin)
    return PatternFit(labels=labels, rms=rms, inliers=inliers, margin=margin, model=model)

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
    by_gaps = label_by_gaps(t)
    if by_gaps is not None and by_gaps.inliers >= MIN_KEYS and by_gaps.margin >= 3:
        return by_gaps
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


# Semitones from one black key to the next, starting at C#: C#-D#, D#-F#, F#-G#, G#-A#, A#-C#.
GAPS = (2, 3, 2, 2, 3)
JOIN_FIT = 0.4          # semitones: one perspective must fit runs joined across a hand this well
GAP_SLACK = 0.3         # semitones a gap may miss a whole number by


def _local_semitone(g: np.ndarray, i: int) -> float:
    """Semitone width near gap i: most gaps between neighbouring black keys are two semitones."""
    window = np.sort(g[max(0, i - 4):i + 5])
    return float(window[int(0.3 * (len(window) - 1))]) / 2.0


def _runs(t: np.ndarray) -> list[list[int]]:
    """Positions split into runs whose every gap is the two or three semitones of one key to the next."""
    g = np.diff(t)
    runs, cur = [], [0]
    for i, gap in enumerate(g):
        r = gap / _local_semitone(g, i)
        if round(r) in (2, 3) and abs(r - round(r)) < GAP_SLACK:
            cur.append(i + 1)
        else:
            runs.append(cur)
            cur = [i + 1]
    runs.append(cur)
    return runs


def _run_labels(t: np.ndarray, run: list[int]) -> np.ndarray | None:
    """Relative MIDI of a run's black keys from its pattern of gaps, or None when ambiguous."""
    g = np.diff(t[run])
    u = np.array([_local_semitone(np.diff(t), i) for i in range(run[0], run[-1])]) if len(run) > 1 else []
    steps = [int(round(x / y)) for x, y in zip(g, u)]
    starts = [k for k in range(5) if all(GAPS[(k + j) % 5] == s for j, s in enumerate(steps))]
    if len(starts) != 1:
        return None
    midi = REFERENCE_C + BLACK_PCS[starts[0]]
    out = [midi]
    for s in steps:
        midi += s
        out.append(midi)
    return np.array(out)


def _name_runs(t: np.ndarray, run: list[int]) -> list[tuple[list[int], np.ndarray]]:
    """A run named by its gaps; where one bar is missed or stray, its longest nameable pieces."""
    if len(run) < SEED:
        return []
    lab = _run_labels(t, run)
    if lab is not None:
        return [(run, lab)]
    for size in range(len(run) - 1, SEED - 1, -1):
        for i in range(len(run) - size + 1):
            lab = _run_labels(t, run[i:i + size])
            if lab is not None:
                return _name_runs(t, run[:i]) + [(run[i:i + size], lab)] + _name_runs(t, run[i + size:])
    return []


def label_by_gaps(t) -> PatternFit | None:
    """Name black keys from the gaps between neighbours; runs broken by hands are joined by position.

    Each unbroken run of gaps of two and three semitones names its keys by where the
    threes fall; runs are then joined, largest first, at the whole-octave offset the
    fitted keyboard puts them at.
    """
    t = np.asarray(t, float)
    if len(t) < SEED:
        return None
    named = [rl for run in _runs(t) for rl in _name_runs(t, run)]
    if not named:
        return None
    named.sort(key=lambda rl: -len(rl[0]))
    labels = np.full(len(t), -1)
    run, lab = named[0]
    labels[run] = lab
    model = _fit(lab + 0.5, t[run], projective=False)
    rest = named[1:]
    while rest:
        ok = labels >= 0
        # The nearest run next: the model is surest close to the keys it was fitted on.
        rest.sort(key=lambda rl: np.min(np.abs(t[ok][:, None] - t[rl[0]][None, :])))
        run, lab = rest.pop(0)
        # A perspective term fitted on runs broken by a hand is bent by the keys' own unevenness:
        # far from them a straight row can place the next run better, so both are asked.
        straight = _fit(labels[ok] + 0.5, t[ok], projective=False)
        k, resid = min((_place(m, t[run], lab) for m in (model, straight)), key=lambda kr: np.max(np.abs(kr[1])))
        if np.max(np.abs(resid)) > 1.5:
            # Far across a hand, a keyboard seen in perspective drifts off any model of the keys on one
            # side: the octave is the one at which one perspective fits both runs, their spacing too.
            k = _joint_octave(labels, t, run, lab, k)
            resid = np.zeros(1) if k is not None else resid
        if k is None or np.max(np.abs(resid)) > 1.5 or np.any(np.isin(lab + 12 * k, labels)):
            continue  # no octave places this run where it lies: not the same keyboard, or misread
        labels[run] = lab + 12 * k
        ok = labels >= 0
        model = _fit(labels[ok] + 0.5, t[ok], projective=ok.sum() >= 10)
    # Single bars between runs: a black key where the fitted keyboard has one.
    for i in np.nonzero(labels < 0)[0]:
        s = _to_semitones(model, t[i:i + 1])[0]
        midi = int(np.round(s - 0.5))
        if midi % 12 in BLACK_PCS and abs(s - (midi + 0.5)) < INLIER_TOLERANCE and midi not in labels:
            labels[i] = midi
    ok = labels >= 0
    model = _fit(labels[ok] + 0.5, t[ok], projective=ok.sum() >= 10)
    resid = _to_semitones(model, t[ok]) - (labels[ok] + 0.5)
    support = local_support(labels[ok])
    margin = int(support[0] - max(support[1:]))
    shift = 12 * ((labels[ok][0] - REFERENCE_C) // 12)
    labels = np.where(ok, labels - shift, -1)
    a, b, c = model
    model = (a / (1 + c * shift), (b + a * shift) / (1 + c * shift), c / (1 + c * shift))
    return PatternFit(labels=labels, rms=float(np.sqrt(np.mean(resid ** 2))), inliers=int(ok.sum()),
                      margin=margin, model=model)


def _place(model: tuple, t: np.ndarray, lab: np.ndarray) -> tuple[int, np.ndarray]:
    """(octaves k, residual semitones) where `model` puts a run of black keys named `lab` (+ 12 k)."""
    s = _to_semitones(model, t)
    k = int(np.round(np.median(s - (lab + 0.5)) / 12.0))
    return k, s - (lab + 12 * k + 0.5)


def _joint_octave(labels: np.ndarray, t: np.ndarray, run: list[int], lab: np.ndarray, k0: int) -> int | None:
    """The octave offset near `k0` at which one perspective fits the keys named so far and the run, or None.

    It must fit every key within JOIN_FIT semitones, and clearly better than the next octave.
    """
    ok = labels >= 0
    if ok.sum() + len(run) < 10:
        return None
    worst = {}
    for k in range(k0 - 2, k0 + 3):
        if np.any(np.isin(lab + 12 * k, labels)):
            continue
        s = np.r_[labels[ok], lab + 12 * k] + 0.5
        tt = np.r_[t[ok], t[run]]
        model = _fit(s, tt, projective=True)
        worst[k] = float(np.max(np.abs(_to_semitones(model, tt) - s)))
    if not worst:
        return None
    ranked = sorted(worst, key=worst.get)
    best = ranked[0]
    if worst[best] > JOIN_FIT or (len(ranked) > 1 and worst[ranked[1]] < 2 * worst[best]):
        return None
    return best


def local_support(midis: np.ndarray) -> np.ndarray:
    """For each shift k of the names: keys on a black key, less black keys missing between near neighbours.

    Only gaps of a few semitones count the keys missing in them: under a hand many black
    keys are hidden whatever the naming, and would only blur the comparison.
    """
    midis = np.sort(np.asarray(midis, int))
    seen = set(midis.tolist())
    between = [m for a, b in zip(midis[:-1], midis[1:]) if b - a <= 5 for m in range(a + 1, b)]
    out = []
    for k in range(12):
        on_black = int(np.sum(np.isin((midis + k) % 12, BLACK_PCS)))
        missing = sum(1 for m in between if (m + k) % 12 in BLACK_PCS and m not in seen)
        out.append(on_black - missing)
    return np.array(out)

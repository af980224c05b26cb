"""Fingers for notes: offline over a whole performance, or live as notes and frames arrive."""
from __future__ import annotations

import collections
import logging
from dataclasses import dataclass

import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.fingering.decode import HandState, confidence, step_decode, viterbi
from pianocam.fingering.evidence import (
    DEFAULT_RULE,
    SIDES,
    EvidenceRule,
    key_position,
    motion_penalty,
    note_evidence,
    smoothed,
)
from pianocam.hands.tracker import Hands
from pianocam.notes import NoteEvent

logger = logging.getLogger(__name__)

# A fingertip further than this from the key (white-key widths) is no evidence it played it:
# the note is reported with finger unknown rather than a guess.
MAX_DISTANCE = 1.0
# A hand none of whose fingertips came this close is not the hand that played.
MAX_HAND_DISTANCE = 1.5
# Frames looked at around an onset: those at and just after it show the finger on the key
# (earlier ones show it on its way there, measured: 88 % right with 50 ms before, 94 % with 20). Waiting
# for one frame after the onset keeps the feedback delay under 100 ms at 30 fps.
BEFORE_S, AFTER_S = 0.02, 0.034
# Motion cues (descent, stillness) look this far back before the onset.
MOTION_BEFORE_S = 0.2


@dataclass
class Fingering:
    note: NoteEvent
    hand: str | None
    finger: int | None
    confidence: float
    distance: float          # of the chosen fingertip to the key, in white-key widths

    def to_message(self) -> dict:
        return {"pitch": self.note.pitch, "name": self.note.name, "onset": round(self.note.onset, 4),
                "offset": None if self.note.offset is None else round(self.note.offset, 4),
                "velocity": self.note.velocity, "hand": self.hand, "finger": self.finger,
                "confidence": round(self.confidence, 3), "source": self.note.source}


# A slow board (a Pi 4 tracks at 5-10 fps) may have no frame that close to an onset: then the hands of the
# first frame after it stand in (the finger is on the key while the note sounds), else the last before it,
# when no further than this away.
HOLD_S = 0.25


def _window(frames: list[Hands], times: np.ndarray, t: float) -> list[Hands]:
    """The frames (sorted by time, with their times) that show the key at an onset at frame time t."""
    lo, hi = np.searchsorted(times, [t - BEFORE_S, t + AFTER_S + 1e-9])
    if hi > lo or not len(frames):
        return frames[lo:hi]
    if hi < len(frames) and times[hi] - t <= HOLD_S:
        return frames[hi:hi + 1]
    return frames[lo - 1:lo] if lo > 0 and t - times[lo - 1] <= HOLD_S else []


def _choose_hand(evidence: np.ndarray) -> str | None:
    per_hand = evidence.min(axis=1)
    row = int(np.argmin(per_hand))
    return SIDES[row] if per_hand[row] <= MAX_HAND_DISTANCE else None


def _motion(frames: list[Hands], times: np.ndarray, t: float, keymap: KeyMap, rule: EvidenceRule) -> np.ndarray:
    lo, hi = np.searchsorted(times, [t - MOTION_BEFORE_S, t + AFTER_S + 1e-9])
    return motion_penalty(frames[lo:hi], t, keymap, rule, AFTER_S)


def assign_fingers(notes: list[NoteEvent], frames: list[Hands], keymap: KeyMap,
                   clock_offset: float = 0.0, rule: EvidenceRule = DEFAULT_RULE,
                   costs: list[np.ndarray] | None = None) -> list[Fingering]:
    """Decode every note of a performance. A note's onset minus clock_offset is its frame time.
    costs: per note (in the order given), (2, 5) more evidence cost per hand and finger (seed 003's network)."""
    if costs is not None:
        order = sorted(range(len(notes)), key=lambda i: (notes[i].onset, notes[i].pitch))
        notes, costs = [notes[i] for i in order], [costs[i] for i in order]
    notes = sorted(notes, key=lambda n: (n.onset, n.pitch))
    frames = smoothed(sorted(frames, key=lambda h: h.t), rule.smooth)
    times = np.array([h.t for h in frames])
    evidence, hands, extra = [], [], []
    for note in notes:
        t = note.onset - clock_offset
        if keymap.key(note.pitch) is None:
            ev = np.full((2, 5), np.inf)  # a key the camera does not see
            extra.append(np.zeros((2, 5)))
        else:
            ev = note_evidence(_window(frames, times, t), keymap, note.pitch, rule)
            extra.append(_motion(frames, times, t, keymap, rule) + (0.0 if costs is None else costs[len(extra)]))
        evidence.append(ev)
        hands.append(_choose_hand(ev))
    results: list[Fingering | None] = [None] * len(notes)
    for side in SIDES:
        idx = [i for i, h in enumerate(hands) if h == side]
        row = SIDES.index(side)
        fingers, costs = viterbi(side, [evidence[i][row] for i in idx],
                                 [key_position(keymap, notes[i].pitch) for i in idx],
                                 [notes[i].onset for i in idx], [notes[i].pitch for i in idx],
                                 [extra[i][row] for i in idx])
        for i, finger, cost in zip(idx, fingers, costs):
            distance = float(evidence[i][row][finger - 1])
            known = distance <= MAX_DISTANCE
            results[i] = Fingering(notes[i], side, finger if known else None,
                                   confidence(cost, finger) if known else 0.0, distance)
    for i, note in enumerate(notes):
        if results[i] is None:
            results[i] = Fingering(note, None, None, 0.0, float(evidence[i].min()))
    return results


def estimate_clock_offset(notes: list[NoteEvent], frames: list[Hands], keymap: KeyMap,
                          search: float = 0.5, step: float | None = None) -> float:
    """The note-clock minus frame-clock offset that puts fingertips on the keys they play.

    For each candidate offset, every note's nearest fingertip distance at its onset is measured
    and the median taken. A finger stays on its key while the note is held, so every offset that
    looks at frames after the true onset scores about as well; only before it does the finger
    lie elsewhere. The onset is therefore the earliest frame time that still scores near the
    best: the largest such offset, less the window's reach past the onset.
    """
    if not notes or not frames:
        return 0.0
    times = np.array(sorted(h.t for h in frames))
    step = step or max(float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30, 1e-3)
    frames = sorted(frames, key=lambda h: h.t)
    sample = [n for n in notes if keymap.key(n.pitch) is not None][:60]
    offsets = np.arange(-search, search + step / 2, step)
    scores = []
    for offset in offsets:
        distances = []
        for note in sample:
            t = note.onset - offset
            distances.append(float(note_evidence(_window(frames, times, t), keymap, note.pitch).min()))
        scores.append(float(np.median(np.minimum(distances, 10.0))))
    scores = np.array(scores)
    good = scores <= scores.min() + max(0.02, 0.1 * scores.min())
    # The window reaches AFTER_S past the onset, so it still sees the key go down at offsets up
    # to AFTER_S beyond the true one (measured on the benchmark scenes: one frame late without this).
    return float(offsets[np.flatnonzero(good)[-1]] - AFTER_S)


class FingerAssigner:
    """The live stage: frames and notes go in, a Fingering comes out once the frames after a
    note's onset have been seen (about 70 ms), decoded online against the hand's last finger."""

    def __init__(self, keymap: KeyMap | None, clock_offset: float = 0.0, memory_s: float = 4.0,
                 rule: EvidenceRule = DEFAULT_RULE):
        self.keymap = keymap
        self.rule = rule
        self.clock_offset = clock_offset
        self._frames: collections.deque[Hands] = collections.deque()
        self._memory = memory_s
        self._pending: list[NoteEvent] = []
        self._state: dict[str, HandState] = {}

    def add_frame(self, hands: Hands) -> list[Fingering]:
        self._frames.append(hands)
        while self._frames and self._frames[0].t < hands.t - self._memory:
            self._frames.popleft()
        return self._decide(hands.t)

    def add_notes(self, notes: list[NoteEvent]) -> list[Fingering]:
        self._pending.extend(notes)
        self._pending.sort(key=lambda n: (n.onset, n.pitch))
        return self._decide(self._frames[-1].t if self._frames else None)

    def flush(self) -> list[Fingering]:
        """Decide every pending note with what has been seen (at the end of a stream)."""
        return self._decide(float("inf"))

    def _decide(self, latest: float | None) -> list[Fingering]:
        if latest is None:
            return []
        decided = []
        while self._pending and self._pending[0].onset - self.clock_offset + AFTER_S <= latest:
            note = self._pending.pop(0)
            decided.append(self._one(note))
        return decided

    def _around(self, t: float) -> list[Hands]:
        """The frames kept that can show the key at onset t: those up to HOLD_S past it (a late note, or one
        held while the keys were being numbered, is decided from its own moment, not from the latest frames)."""
        kept = list(self._frames)
        start, end = np.searchsorted([h.t for h in kept], [t - 2 * MOTION_BEFORE_S, t + HOLD_S + 1e-9])
        return kept[max(0, int(start) - self.rule.smooth):int(end) + self.rule.smooth]

    def _one(self, note: NoteEvent) -> Fingering:
        t = note.onset - self.clock_offset
        if self.keymap is None or self.keymap.key(note.pitch) is None:  # uncalibrated, or a key out of view
            return Fingering(note, None, None, 0.0, float("inf"))
        frames = smoothed(self._around(t), self.rule.smooth)
        times = np.array([h.t for h in frames])
        evidence = note_evidence(_window(frames, times, t), self.keymap, note.pitch, self.rule)
        side = _choose_hand(evidence)
        if side is None:
            return Fingering(note, None, None, 0.0, float(evidence.min()))
        row = SIDES.index(side)
        position = key_position(self.keymap, note.pitch)
        finger, cost, self._state[side] = step_decode(side, evidence[row], self._state.get(side), position,
                                                      note.onset, note.pitch,
                                                      _motion(frames, times, t, self.keymap, self.rule)[row])
        distance = float(evidence[row][finger - 1])
        if distance > MAX_DISTANCE:
            return Fingering(note, side, None, 0.0, distance)
        return Fingering(note, side, finger, confidence(cost, finger), distance)

"""Number the keys from the notes played: a note of pitch p sounding while a fingertip is on a key names that key."""
from __future__ import annotations

import collections
import logging
from dataclasses import dataclass, field

import numpy as np

from pianocam.calibration.keymap import OCTAVE_WIDTH, KeyMap, build_keymap

logger = logging.getLogger(__name__)

MIN_NOTES = 6        # votes the winning numbering needs at least
MARGIN = 4           # ... and by how many notes it must beat the runner-up
RATIO = 1.5          # ... and by what factor
# Frames around an onset that show the finger on its key (as the finger assigner looks).
BEFORE_S, AFTER_S = 0.02, 0.034
TIPS = (4, 8, 12, 16, 20)   # MediaPipe landmarks of the thumb to the little finger's tip


@dataclass
class Verdict:
    """Which renumbering the notes support: shift (semitones to add) once decided, with the evidence."""

    shift: int | None
    notes: int                      # notes looked at
    votes: dict[int, int] = field(default_factory=dict)

    @property
    def decided(self) -> bool:
        return self.shift is not None


def note_shifts(pitch: int, tips_plane: np.ndarray, keymap: KeyMap, candidates) -> set[int]:
    """Shifts k under which some fingertip (plane points, mm) lies on the key that sounds `pitch`.

    Under shift k the map's key m sounds m + k, so a fingertip on key m votes for pitch - m.
    """
    out = set()
    for px, py in tips_plane:
        key = keymap.key_at_plane(px, py)
        if key is not None and pitch - key.midi in candidates:
            out.add(pitch - key.midi)
    return out


def decide(votes: collections.Counter, notes: int) -> Verdict:
    """The winning shift when one clearly leads, else undecided."""
    ranked = votes.most_common(2)
    if not ranked:
        return Verdict(None, notes, dict(votes))
    best, c1 = ranked[0]
    c2 = ranked[1][1] if len(ranked) > 1 else 0
    won = c1 >= MIN_NOTES and c1 - c2 >= MARGIN and c1 >= RATIO * c2
    return Verdict(best if won else None, notes, dict(votes))


def octave_candidates(keymap: KeyMap, lowest: int = 21, highest: int = 108) -> set[int]:
    """Whole-octave shifts that keep every mapped key on a piano (the pattern fixed everything else)."""
    lo, hi = min(keymap.midis), max(keymap.midis)
    return {k for k in range(-120, 121, 12) if lo + k >= lowest and hi + k <= highest}


def _tips(hands) -> np.ndarray:
    pts = [h.landmarks[list(TIPS), :2] for h in hands.hands]
    return np.concatenate(pts) if pts else np.zeros((0, 2))


def number_from_notes(notes, frames, keymap: KeyMap, candidates=None, offsets=None) -> tuple[Verdict, float]:
    """(verdict, clock offset) over a recorded performance: notes (pitch, onset) against tracked hands.

    The note clock may run ahead of the video by an unknown offset, and measuring it needs the
    numbering: every offset in the search is tried and the one whose best numbering leads most is kept.
    """
    candidates = octave_candidates(keymap) if candidates is None else set(candidates)
    frames = sorted(frames, key=lambda h: h.t)
    times = np.array([h.t for h in frames])
    planes = [keymap.to_plane(_tips(h)) if h.hands else np.zeros((0, 2)) for h in frames]
    if offsets is None:
        step = float(np.median(np.diff(times))) if len(times) > 1 else 1 / 30
        offsets = np.arange(-0.5, 0.5 + step / 2, max(step, 1e-3))
    best = (Verdict(None, 0), 0.0, -1e9)
    for offset in offsets:
        votes: collections.Counter = collections.Counter()
        for note in notes:
            t = note.onset - offset
            lo, hi = np.searchsorted(times, [t - BEFORE_S, t + AFTER_S + 1e-9])
            shifts = set()
            for i in range(lo, hi):
                shifts |= note_shifts(note.pitch, planes[i], keymap, candidates)
            votes.update(shifts)
        verdict = decide(votes, len(notes))
        ranked = votes.most_common(2) + [(None, 0), (None, 0)]
        lead = ranked[0][1] - ranked[1][1]
        if lead > best[2]:
            best = (verdict, float(offset), lead)
    return best[0], best[1]


def renumber(keymap: KeyMap, shift: int, how: str = "notes") -> KeyMap:
    """The same keys, each named `shift` semitones higher (a whole number of octaves)."""
    if shift % 12:
        raise ValueError(f"a renumbering by {shift} semitones would put black keys on white ones: recalibrate")
    d = shift // 12 * OCTAVE_WIDTH
    move = np.array([[1.0, 0.0, d], [0, 1, 0], [0, 0, 1]]) @ keymap.homography
    # The row warp is a function of plane x, which moves with the keys: its centre moves too.
    warp = {**keymap.row_warp, "centre": keymap.row_warp["centre"] + d} if keymap.row_warp else None
    notes = [n for n in keymap.notes if "neither end" not in n] + [f"numbered from the notes played (shift {shift:+d})"]
    out = build_keymap(move, keymap.image_size, [m + shift for m in keymap.midis],
                       black_key_length=keymap.black_key_length, lens_k1=keymap.lens_k1, row_warp=warp,
                       partial=keymap.partial,
                       notes=notes, keyboard_keys=keymap.keyboard_keys, lowest=keymap.lowest, method=keymap.method)
    out.numbered_by, out.ends = how, dict(keymap.ends)
    return out


class NumberingWatch:
    """Live: keeps checking the key map's numbering against the notes played.

    Frames and notes go in as they arrive; once the frames just after a note's onset are in,
    the note votes. When a shift other than 0 clearly wins over the last `window` notes (the
    map was numbered an octave off, or the camera was knocked by some keys), `on_shift(shift,
    verdict)` is called and the votes start afresh.
    """

    def __init__(self, keymap_fn, on_shift, window: int = 24, span: int = 14, memory_s: float = 4.0):
        self.keymap_fn, self.on_shift = keymap_fn, on_shift
        self.window, self.span, self.memory_s = window, span, memory_s
        self.clock_offset = 0.0
        self._frames: collections.deque = collections.deque()
        self._pending: list = []
        self._recent: collections.deque = collections.deque(maxlen=window)
        self.last = Verdict(None, 0)

    def add_frame(self, hands) -> None:
        self._frames.append(hands)
        while self._frames and self._frames[0].t < hands.t - self.memory_s:
            self._frames.popleft()
        self._vote(hands.t)

    def add_notes(self, notes) -> None:
        self._pending.extend(notes)

    def reset(self) -> None:
        self._recent.clear()
        self.last = Verdict(None, 0)

    def _vote(self, latest: float) -> None:
        keymap = self.keymap_fn()
        if keymap is None:
            self._pending.clear()
            return
        ready = [n for n in self._pending if n.onset - self.clock_offset + AFTER_S <= latest]
        self._pending = [n for n in self._pending if n not in ready]
        candidates = set(range(-self.span, self.span + 1))
        if keymap.numbered_by == "provisional":
            candidates |= octave_candidates(keymap)
        for note in ready:
            t = note.onset - self.clock_offset
            shifts = set()
            for hands in self._frames:
                if t - BEFORE_S <= hands.t <= t + AFTER_S and hands.hands:
                    shifts |= note_shifts(note.pitch, keymap.to_plane(_tips(hands)), keymap, candidates)
            self._recent.append(shifts)
        if not ready:
            return
        votes = collections.Counter(k for shifts in self._recent for k in shifts)
        self.last = decide(votes, len(self._recent))
        if self.last.decided and (self.last.shift != 0 or keymap.numbered_by == "provisional"):
            verdict = self.last
            self.reset()
            self.on_shift(verdict.shift, verdict)


def provisional_keymap(image) -> KeyMap | None:
    """The keys located and named in some octave, for the notes to number: None when no keys are found."""
    from pianocam.calibration.detect import detect_keymap
    from pianocam.calibration.errors import CalibrationError

    for hints in ({"first_c": 60}, {"first_c": 48}, {"first_c": 72}):
        try:
            keymap = detect_keymap(image, **hints)
        except CalibrationError:
            continue
        keymap.numbered_by = "provisional"
        keymap.notes = [n for n in keymap.notes if "first" not in n] + [
            "octave not yet known: numbered from the notes once they are played"]
        return keymap
    return None

"""An exercise as a student plays it: score notes timed at a tempo, with deliberate finger changes or wrong notes."""
from __future__ import annotations

import numpy as np

from pianocam.practice.score import ExpectedNote, Score
from pianocam.scene.score import ARTICULATION, LEAD_IN

BLACK_PITCH_CLASSES = (1, 3, 6, 8, 10)


class PerformanceError(ValueError):
    """Cannot make that many changes to this exercise."""


def _neighbours(notes: list[ExpectedNote], i: int) -> tuple[ExpectedNote | None, ExpectedNote | None]:
    return (notes[i - 1] if i > 0 else None, notes[i + 1] if i + 1 < len(notes) else None)


def _alone(score: Score, note: ExpectedNote) -> bool:
    """Not part of a chord in its hand."""
    return sum(n.hand == note.hand and abs(n.beat - note.beat) < 1e-9 for n in score.notes) == 1


def finger_change_candidates(score: Score) -> list[tuple[int, int]]:
    """(score index, other finger) a student might plausibly use instead: a finger one to either
    side, different from both neighbours' fingers and keeping their order, so the hand still moves
    as a hand does (thumb crossings stay as written). Never the thumb, nor the little finger in the
    middle of a run: a thumb passing under 5 is a change no hand makes (and the anatomy decoder
    reads it as the 4 it must have been, measured: seed 3 of C major)."""
    out = []
    for hand in ("left", "right"):
        mine = [n for n in score.notes if n.hand == hand]
        for i, note in enumerate(mine):
            prev, nxt = _neighbours(mine, i)
            if note.finger in (None, 1) or prev is None or nxt is None or not _alone(score, note):
                continue
            if prev.finger is None or nxt.finger is None:
                continue
            for other in (note.finger - 1, note.finger + 1):
                if other in (1, 5, prev.finger, nxt.finger) or not 2 <= other <= 4:
                    continue
                if np.sign(other - prev.finger) != np.sign(note.finger - prev.finger):
                    continue
                if np.sign(nxt.finger - other) != np.sign(nxt.finger - note.finger):
                    continue
                out.append((note.index, other))
                break
    return out


def wrong_note_candidates(score: Score) -> list[tuple[int, int]]:
    """(score index, pitch) a semitone off, a pitch none of the hand's nearby notes has (measured: a
    thumb put on a black key is drawn so far from it that no hand is found playing it)."""
    out = []
    for hand in ("left", "right"):
        mine = [n for n in score.notes if n.hand == hand]
        for i, note in enumerate(mine):
            if i == 0 or i + 1 >= len(mine) or not _alone(score, note):
                continue
            near = {n.pitch for n in mine[max(0, i - 4):i + 5]}
            for pitch in (note.pitch + 1, note.pitch - 1):
                # a thumb reaches a black key only by moving the whole hand in: no student's slip
                if pitch not in near and not (note.finger == 1 and pitch % 12 in BLACK_PITCH_CLASSES):
                    out.append((note.index, pitch))
                    break
    return out


def perform(score: Score, tempo: float, finger_changes: int = 0, wrong_notes: int = 0,
            seed: int = 0, timing_jitter_ms: float = 0.0) -> tuple[list[dict], list[dict]]:
    """Scene notes (pitch, onset, offset, hand, finger, velocity) and the changes made, each with
    the score index, what was written and what is played. Changes are spread over the exercise
    and never on neighbouring notes. timing_jitter_ms: each onset moved by a normal draw of that
    standard deviation (an uneven player), kept after the previous note of its hand."""
    if tempo <= 0:
        raise PerformanceError("tempo must be positive")
    if timing_jitter_ms < 0:
        raise PerformanceError("timing jitter must be zero or more milliseconds")
    rng = np.random.default_rng([seed, 14])
    taken: set[int] = set()
    changes: list[dict] = []

    def pick(candidates, count, kind):
        if count <= 0:
            return []
        free = [c for c in candidates if not ({c[0] - 1, c[0], c[0] + 1} & taken)]
        if count > len(free):
            raise PerformanceError(f"{score.name}: room for {len(free)} {kind.replace('_', ' ')}s, not {count}")
        chosen = []
        for c in rng.permutation(len(free)):
            index, value = free[c]
            if {index - 2, index - 1, index, index + 1, index + 2} & taken:
                continue
            chosen.append((index, value))
            taken.add(index)
            if len(chosen) == count:
                break
        if len(chosen) < count:
            raise PerformanceError(f"{score.name}: cannot spread {count} {kind.replace('_', ' ')}s apart")
        return chosen

    if finger_changes and not score.fingered:
        raise PerformanceError(f"{score.name} has no written fingering to play otherwise")
    fingers = {i: f for i, f in pick(finger_change_candidates(score), finger_changes, "finger_change")}
    pitches = {i: p for i, p in pick(wrong_note_candidates(score), wrong_notes, "wrong_note")}
    beat = 60.0 / tempo
    # Drawn from their own stream, so a jittered take keeps the same changes as an even one.
    jitter_rng = np.random.default_rng([seed, 15])
    # Never more than a third of the shortest note: an onset cannot pass its hand's previous one.
    bound = min(n.duration for n in score.notes) * beat / 3
    notes = []
    for n in score.notes:
        finger = fingers.get(n.index, n.finger)
        pitch = pitches.get(n.index, n.pitch)
        if n.index in fingers:
            changes.append({"index": n.index, "kind": "wrong_finger", "hand": n.hand, "pitch": n.pitch,
                            "written_finger": n.finger, "played_finger": finger})
        if n.index in pitches:
            changes.append({"index": n.index, "kind": "wrong_note", "hand": n.hand, "written_pitch": n.pitch,
                            "played_pitch": pitch, "finger": finger})
        shift = float(np.clip(jitter_rng.normal(0, timing_jitter_ms / 1000), -bound, bound)) if timing_jitter_ms else 0.0
        onset = LEAD_IN + n.beat * beat + shift
        notes.append({"pitch": int(pitch), "onset": round(onset, 6),
                      "offset": round(onset + ARTICULATION * n.duration * beat, 6), "hand": n.hand,
                      # a note the book leaves unfingered is played with the finger the renderer's hand
                      # would use anyway: its neighbour's pattern is unknown, so the middle finger
                      "finger": int(finger) if finger is not None else 3,
                      "velocity": int(rng.integers(62, 78))})
    notes.sort(key=lambda n: (n["onset"], n["hand"], n["pitch"]))
    return notes, sorted(changes, key=lambda c: c["index"])

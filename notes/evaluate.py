"""Note-level scoring of a transcription against truth: pitch exact, onset within a tolerance (mir_eval's rule)."""
from __future__ import annotations

import logging
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class NoteScore:
    truth: int
    estimated: int
    matched: int
    mean_onset_error: float  # estimated minus true onset over matched notes, seconds

    @property
    def precision(self) -> float:
        return self.matched / self.estimated if self.estimated else 0.0

    @property
    def recall(self) -> float:
        return self.matched / self.truth if self.truth else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def match_notes(truth: list[tuple[int, float]], estimated: list[tuple[int, float]],
                tolerance: float = 0.05) -> list[tuple[int, int]]:
    """One-to-one (truth index, estimate index) pairs of equal pitch, closest onsets first."""
    candidates = sorted((abs(e[1] - t[1]), i, j) for i, t in enumerate(truth) for j, e in enumerate(estimated)
                        if t[0] == e[0] and abs(e[1] - t[1]) <= tolerance)
    used_t, used_e, pairs = set(), set(), []
    for _, i, j in candidates:
        if i not in used_t and j not in used_e:
            used_t.add(i)
            used_e.add(j)
            pairs.append((i, j))
    return pairs


def score_notes(truth: list[tuple[int, float]], estimated: list[tuple[int, float]],
                tolerance: float = 0.05) -> NoteScore:
    """Score (pitch, onset seconds) lists; greedy closest-first matching equals mir_eval's on non-pathological input."""
    pairs = match_notes(truth, estimated, tolerance)
    error = sum(estimated[j][1] - truth[i][1] for i, j in pairs) / len(pairs) if pairs else 0.0
    return NoteScore(len(truth), len(estimated), len(pairs), error)


def sequence_match(truth: list[int], pitches: list[int]) -> int:
    """Longest common subsequence of two pitch sequences: notes found in order, when onsets are unknown."""
    row = [0] * (len(pitches) + 1)
    for t in truth:
        prev = 0
        for j, p in enumerate(pitches):
            prev, row[j + 1] = row[j + 1], prev + 1 if t == p else max(row[j + 1], row[j])
    return row[-1]

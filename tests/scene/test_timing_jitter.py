"""`pianocam render --timing-jitter MS`: an exercise played unevenly by a known amount, with the same notes."""
import numpy as np
import pytest

from pianocam.practice.exercises import resolve
from pianocam.scene.exercise_performance import PerformanceError, perform


def test_jitter_moves_onsets_by_about_its_spread_and_keeps_the_notes_and_their_order():
    score = resolve("scales/c_major", None, "right", None)
    even, even_changes = perform(score, 90, wrong_notes=2, seed=3)
    uneven, uneven_changes = perform(score, 90, wrong_notes=2, seed=3, timing_jitter_ms=20)
    assert [n["pitch"] for n in even] == [n["pitch"] for n in uneven] and even_changes == uneven_changes
    shifts = np.array([u["onset"] - e["onset"] for e, u in zip(even, uneven)]) * 1000
    assert 14 < shifts.std() < 26 and abs(shifts.mean()) < 8
    onsets = [n["onset"] for n in uneven]
    assert onsets == sorted(onsets)
    assert perform(score, 90, wrong_notes=2, seed=3, timing_jitter_ms=0) == (even, even_changes)
    with pytest.raises(PerformanceError, match="jitter"):
        perform(score, 90, timing_jitter_ms=-1)

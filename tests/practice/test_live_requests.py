"""cmd/start_session's practice options: what is accepted, what is refused with its reason."""
from __future__ import annotations

from pathlib import Path

import pytest

from pianocam.practice.exercises import ExerciseError
from pianocam.practice.live import PracticeSession, skill_message

HERE = Path(__file__).parent


def test_a_free_session_has_no_practice():
    assert PracticeSession.from_request({"transaction": "t"}) is None


def test_exercise_score_hands_passage_and_tempo():
    p = PracticeSession.from_request({"exercise": "scales/c_major", "hands": "left", "passage": 2, "tempo": 72})
    assert p.describe() == {"exercise": "scales/c_major", "title": "scales_c_major", "notes": 29, "hands": ["left"],
                            "tempo": 72}
    p = PracticeSession.from_request({"score": str(HERE / "ode_fragment.musicxml"), "hands": "both"})
    assert p.describe()["notes"] == 6


@pytest.mark.parametrize("request_, message", [
    ({"exercise": "scales/c_major", "tempo": "fast"}, "'tempo' must be a positive number"),
    ({"exercise": "scales/c_major", "tempo": True}, "'tempo' must be a positive number"),
    ({"exercise": "scales/c_major", "hands": "three"}, "'hands' must be one of"),
    ({"exercise": "scales/c_major", "passage": 1.5}, "'passage' must be a whole number"),
    ({"exercise": "scales/c_major", "passage": 9}, "passages 1-3, not 9"),
    ({"exercise": 3}, "'exercise' must be a string"),
    ({"exercise": "scales/c_major", "score": "x.abcd"}, "one of them"),
])
def test_bad_requests_are_refused(request_, message):
    with pytest.raises(ExerciseError, match=message):
        PracticeSession.from_request(request_)


def test_notes_gain_verdicts_missed_notes_are_sent_and_skill_says_it_is_a_rubric():
    p = PracticeSession.from_request({"exercise": "ode_to_joy"})
    notes = p.score.notes
    out = []
    for k, n in enumerate(notes):
        if k == 2:
            continue  # F4 never played
        message = {"pitch": n.pitch, "name": "?", "onset": n.beat * 0.5, "offset": None, "velocity": 70,
                   "hand": "right", "finger": n.finger if k != 6 else 4, "confidence": 0.9, "source": "midi"}
        out += p.judge(message)
    assert [m["verdict"] for m in out[:8]] == ["right", "right", "missed", "right", "right", "right", "wrong_finger",
                                               "right"]
    assert out[2]["played"] is False and out[2]["expected"]["index"] == 2 and out[2]["onset"] is None
    assert p.running()["missed"] == 1 and p.running()["played"] == 30
    missed, report = p.finish()
    assert missed == [] and report["counts"]["missed"] == 1 and report["counts"]["wrong_finger"] == 1
    skill = skill_message(report)
    assert skill["method"] == "rubric" and skill["rubric"] == "pianocam-rubric-1" and 1 <= skill["score"] <= 10

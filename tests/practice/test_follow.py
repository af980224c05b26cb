"""The score follower on played-note sequences with known mistakes, and the metrics over its verdicts."""
from __future__ import annotations

from collections import Counter

from pianocam.practice.exercises import exercise
from pianocam.practice.follow import Follower, Played
from pianocam.practice.metrics import summarize

SCALE = exercise("scales/c_major").select("right", 1)       # C4..C6 and back, 29 notes
TOGETHER = exercise("scales/c_major").select("together", 1)


def _play(score, notes, seconds_per_beat=1.0):
    follower = Follower(score)
    out = []
    for k, (pitch, hand, finger) in enumerate(notes):
        out += follower.play(Played(pitch, k * 0.25 * seconds_per_beat, hand, finger, 70))
    out += follower.finish()
    return follower, out


def _as_written(score):
    return [(n.pitch, n.hand, n.finger) for n in score.notes]


def test_the_book_played_as_written_is_all_right():
    follower = Follower(TOGETHER)
    out = [j for n in TOGETHER.notes for j in follower.play(Played(n.pitch, n.beat, n.hand, n.finger, 70))]
    out += follower.finish()
    assert Counter(j.verdict for j in out) == {"right": 58}
    summary = summarize(TOGETHER, follower.log, follower.not_reached())
    assert summary["fingering_as_written"] == 1.0 and summary["right_notes"] == 1.0
    assert summary["skill"]["score"] == 10.0 and summary["skill"]["rubric"].startswith("pianocam-rubric")


def test_wrong_note_missed_extra_repeat_and_wrong_finger_each_reported_once():
    notes = _as_written(SCALE)
    played = list(notes)
    played[3] = (played[3][0] + 1, "right", played[3][2])        # F4 -> F#4: wrong note
    del played[7]                                                  # C5 never played: missed
    played.insert(10, (30, "right", 2))                            # a stray low key: extra
    played.insert(15, played[14])                                  # the same key twice: extra
    played[20] = (played[20][0], "right", 5 if played[20][2] != 5 else 4)  # another finger
    follower, out = _play(SCALE, played)
    verdicts = Counter(j.verdict for j in out)
    assert verdicts == {"right": 26, "wrong_note": 1, "missed": 1, "extra": 2, "wrong_finger": 1}
    assert [j.expected.index for j in out if j.verdict == "wrong_note"] == [3]
    assert [j.expected.index for j in out if j.verdict == "missed"] == [7]
    # the missed note is reported when the follower passes it, before the note that passes it
    missed_at = next(i for i, j in enumerate(out) if j.verdict == "missed")
    assert out[missed_at + 1].expected.index == 8


def test_a_corrected_wrong_note_and_a_restart_from_the_beginning():
    notes = _as_written(SCALE)
    played = notes[:5] + [(notes[5][0] - 1, "right", notes[5][2])] + [notes[5]] + notes[6:12] + notes
    follower, out = _play(SCALE, played)
    assert [j.verdict for j in out[:7]] == ["right"] * 5 + ["wrong_note", "right"]
    assert out[6].corrected
    assert follower.restarts == 1
    restarted = [j for j in out if j.restart]
    assert len(restarted) == 1 and restarted[0].expected.index == 2  # known after three notes
    summary = summarize(SCALE, follower.log, follower.not_reached(), follower.restarts)
    assert summary["right_notes"] == 1.0 and summary["not_reached"] == 0


def test_chord_notes_in_any_order_and_hands_told_apart():
    score = exercise("scales/c_major").select("together", 1)
    played = _as_written(score)
    # the hands land together: here the right hand's key arrives first on every beat
    swapped = []
    for k in range(0, len(played), 2):
        swapped += [played[k + 1], played[k]]
    follower, out = _play(score, swapped)
    assert Counter(j.verdict for j in out) == {"right": 58}
    # a note the camera gave to the other hand is matched, and counts as the wrong finger
    wrong_hand = list(played)
    wrong_hand[10] = (played[10][0], "right", played[10][2])
    follower, out = _play(score, wrong_hand)
    assert Counter(j.verdict for j in out) == {"right": 57, "wrong_finger": 1}


def test_tempo_evenness_and_synchrony():
    score = TOGETHER
    follower = Follower(score)
    for n in score.notes:
        # 80 bpm; the left hand 30 ms late, the right hand's every other note 20 ms early
        onset = n.beat * 0.75 + (0.03 if n.hand == "left" else (-0.02 if n.index % 4 == 1 else 0.0))
        follower.play(Played(n.pitch, onset, n.hand, n.finger, 60 if n.hand == "left" else 80))
    summary = summarize(score, follower.log, follower.not_reached())
    assert abs(summary["tempo"]["bpm"] - 80) < 3
    assert summary["synchrony"]["left_minus_right_ms"] > 20
    assert summary["onset_spread"]["left"] < 0.02 < summary["onset_spread"]["right"]
    assert summary["velocity_spread"]["left"] == 0
    assert 1 <= summary["skill"]["score"] < 10


def test_a_wrong_note_the_camera_gave_no_hand_is_still_a_wrong_note():
    played = _as_written(TOGETHER)
    k = next(i for i, n in enumerate(TOGETHER.notes) if n.hand == "right" and i > 10)
    played[k] = (played[k][0] + 1, None, None)
    follower, out = _play(TOGETHER, played)
    assert Counter(j.verdict for j in out) == {"right": 57, "wrong_note": 1}
    assert next(j for j in out if j.verdict == "wrong_note").expected.index == k

"""Rendered exercises through `pianocam render --exercise` and `pianocam practice`: real MediaPipe, real decoding."""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter

import pytest

PIANOCAM = [sys.executable, "-m", "pianocam.commands.cli"]

pytestmark = pytest.mark.slow


def _render(tmp_path, exercise, *extra):
    out = tmp_path / exercise.replace("/", "_")
    result = subprocess.run(PIANOCAM + ["render", "--exercise", exercise, "--passage", "1", "--no-audio",
                                        "--out", str(out), *extra], capture_output=True, text=True, check=True)
    return out, json.loads(result.stdout)


def _practice(exercise, out, *extra):
    result = subprocess.run(PIANOCAM + ["practice", "--exercise", exercise, "--passage", "1", "--json",
                                        "--video", str(out / "video.mp4"), "--midi", str(out / "performance.mid"),
                                        *extra], capture_output=True, text=True, check=True)
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    return lines[:-1], lines[-1]["summary"]


@pytest.mark.parametrize("exercise", ["scales/c_major", "arpeggios/common_g_major", "broken_chords/c_major"])
def test_played_with_the_book_fingering_scores_as_written(tmp_path, exercise):
    out, written = _render(tmp_path, exercise)
    assert written["changes"] == []
    notes, summary = _practice(exercise, out)
    assert summary["fingering_as_written"] >= 0.97, Counter(n["verdict"] for n in notes)
    assert summary["right_notes"] == 1.0
    assert all(n["expected"] is not None and "verdict" in n for n in notes)


def test_three_finger_changes_and_a_wrong_note_are_reported_exactly(tmp_path):
    exercise = "scales/c_major"
    out, written = _render(tmp_path, exercise, "--finger-changes", "3", "--wrong-notes", "1", "--seed", "3")
    truth = json.loads((out / "truth.json").read_text())["exercise"]["changes"]
    assert truth == written["changes"] and Counter(c["kind"] for c in truth) == {"wrong_finger": 3, "wrong_note": 1}
    report = tmp_path / "report.png"
    notes, summary = _practice(exercise, out, "--report", str(report))
    reported = sorted((n["expected"]["index"], n["verdict"]) for n in notes if n["verdict"] != "right")
    assert reported == sorted((c["index"], c["kind"]) for c in truth)
    for change in truth:
        line = next(n for n in notes if n["expected"]["index"] == change["index"])
        if change["kind"] == "wrong_finger":
            assert line["finger"] == change["played_finger"] and line["expected"]["finger"] == change["written_finger"]
        else:
            assert line["pitch"] == change["played_pitch"] and line["expected"]["pitch"] == change["written_pitch"]
    assert summary["counts"]["wrong_finger"] == 3 and summary["counts"]["wrong_note"] == 1
    assert report.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and report.stat().st_size > 20_000

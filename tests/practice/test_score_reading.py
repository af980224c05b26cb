"""The abcD reader, the shipped Beringer & Dunhill exercises, MusicXML fingering through partitura."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pianocam.practice.abcd import AbcdError, read_abcd
from pianocam.practice.exercises import BERINGER_FILE, ExerciseError, exercise, load_score, names, resolve
from tests.conftest import SHARED

HERE = Path(__file__).parent
BERINGER = SHARED / "data" / "real" / "fingerings" / "beringer2"
PIANOCAM = [sys.executable, "-m", "pianocam.commands.cli"]

SMALL = """% abcD fingering 1: 123451@5x12
X:1
T:test
M:4/4
K:D
V:1 treble
V:2 bass octave=-1
V:1
L:1/8
"^Up"F^F=F f2 | F [K:clef=treble octave=1] c |]
V:2
L:1/8
[CEG]4 D,2 z2 |]
"""


def test_abcd_pitches_key_signature_bar_accidentals_octaves_and_lengths():
    score = read_abcd(SMALL, "small")
    right = [n for n in score.notes if n.hand == "right"]
    # K:D sharpens F and C; ^F then =F hold to the bar line, in their octave only (f2 is F#5, a quarter);
    # after the bar F is sharp again; octave=1 lifts c by an octave (and the key still sharpens it).
    assert [n.pitch for n in right] == [66, 66, 65, 78, 66, 85]
    assert [n.beat for n in right] == [0.0, 0.5, 1.0, 1.5, 2.5, 3.0]
    assert [n.finger for n in right] == [1, 2, 3, 4, 5, 1]
    assert right[0].bar == 1 and right[4].bar == 2
    assert score.passages[0] == "Up"


def test_fingering_must_cover_every_note():
    with pytest.raises(AbcdError, match="4 fingers for the right hand's 6 notes"):
        read_abcd(SMALL.replace("123451@", "1234@"), "small")


def test_chords_rests_and_the_lower_staff():
    score = read_abcd(SMALL, "small")
    left = [n for n in score.notes if n.hand == "left"]
    assert [(n.pitch, n.beat, n.finger) for n in left] == [(49, 0.0, 5), (52, 0.0, None), (55, 0.0, 1),
                                                           (38, 2.0, 2)]


def test_every_beringer_exercise_ships_and_lists():
    beringer = [n for n in names() if n.split("/")[0] in ("scales", "arpeggios", "broken_chords")]
    assert len(beringer) == 110
    out = subprocess.run(PIANOCAM + ["exercises", "--json"], capture_output=True, text=True, check=True).stdout
    listed = [json.loads(line) for line in out.splitlines()]
    assert {d["name"] for d in listed} >= set(beringer) | {"ode_to_joy"}
    assert all(d["source"] for d in listed)
    c = exercise("scales/c_major")
    assert c.passages == ["Octaves", "Thirds", "Sixths"]
    first = [(n.pitch, n.finger) for n in c.select("right", 1).notes][:8]
    assert first == [(60, 1), (62, 2), (64, 3), (65, 1), (67, 2), (69, 3), (71, 4), (72, 1)]
    assert (BERINGER_FILE.parent / "LICENSE-beringer2.txt").read_text().startswith("MIT License")


@pytest.mark.skipif(not BERINGER.is_dir(), reason="../shared/data/real/fingerings/beringer2 is absent")
def test_shipped_exercises_are_what_the_import_script_makes_now(tmp_path):
    out = tmp_path / "beringer.json"
    subprocess.run([sys.executable, "-m", "pianocam.practice.import_beringer", str(BERINGER), "--out", str(out)],
                   check=True, capture_output=True)
    assert out.read_text() == BERINGER_FILE.read_text()


def test_musicxml_fingering_marks_are_read():
    score = load_score(HERE / "ode_fragment.musicxml")
    assert [(n.pitch, n.hand, n.finger, n.beat) for n in score.notes] == [
        (48, "left", 5, 0.0), (64, "right", 3, 0.0), (64, "right", 3, 1.0), (55, "left", None, 2.0),
        (65, "right", 4, 2.0), (67, "right", 5, 3.0)]


def test_names_and_selections_that_do_not_exist_are_refused():
    with pytest.raises(ExerciseError, match="ambiguous"):
        exercise("c_major")
    with pytest.raises(ExerciseError, match="no exercise"):
        exercise("scales/h_major")
    with pytest.raises(ExerciseError, match="passages 1-3"):
        resolve("scales/c_major", passage=4)
    result = subprocess.run(PIANOCAM + ["practice", "--exercise", "nope", "--video", "v.mp4", "--midi", "m.mid"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["pianocam practice: no exercise 'nope'; `pianocam exercises` lists them"]


@pytest.mark.parametrize("args, message", [
    (["practice", "--score", "{bad}", "--video", "v.mp4", "--midi", "m.mid"], "not a MusicXML score this reader can read"),
    (["practice", "--score", "{tmp}/none.musicxml", "--video", "v.mp4", "--midi", "m.mid"], "no such score file"),
    (["render", "--exercise", "scales/c_major", "--passage", "1", "--finger-changes", "40", "--out", "{tmp}/r"],
     "room for 8 finger changes, not 40"),
    (["render", "--exercise", "scales/a_minor_harmonic", "--finger-changes", "1", "--out", "{tmp}/r"],
     "has no written fingering"),
    (["render", "--exercise", "broken_chords/a_minor", "--out", "{tmp}/r"], "beyond a 61-key keyboard; try --keys 88"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    bad = tmp_path / "bad.musicxml"
    bad.write_text("<score-partwise><part")
    args = [a.format(bad=bad, tmp=tmp_path) for a in args]
    result = subprocess.run(PIANOCAM + args, capture_output=True, text=True)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], result.stderr

"""Numbering from the notes: votes of fingertips on the played key, the decision, live checking, the CLI."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from pianocam.calibration.from_notes import (
    NumberingWatch,
    decide,
    note_shifts,
    number_from_notes,
    octave_candidates,
    provisional_keymap,
    renumber,
)
from pianocam.calibration.keymap import build_keymap
from pianocam.hands.tracker import FINGERTIPS, Hand, Hands
from pianocam.notes import NoteEvent
from pianocam.scene import Scene, SceneSpec
from pianocam.scene.source import cached_scene

SCALE = 0.5
SHIFT = np.array([-3000.0, 100.0])  # image = plane * SCALE + SHIFT: C3..C6 in view


@pytest.fixture()
def keymap():
    to_image = np.array([[SCALE, 0, SHIFT[0]], [0, SCALE, SHIFT[1]], [0, 0, 1]])
    return build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85))


def _hands(t, keymap, midis, side="right"):
    """One hand whose fingertips 1.. lie on the given keys (the first is the one that plays)."""
    points = np.zeros((21, 3), np.float32)
    points[:, :2] = (600.0, 380.0)
    for finger, midi in zip(range(1, 6), midis):
        points[FINGERTIPS[finger], :2] = keymap.key(midi).center
    return Hands(int(t * 30), t, 1280, 400, [Hand(side, 0.9, points, points / [1280, 400, 1280])])


def _performance(keymap, sounding_shift, count=12, seed=0):
    """Notes sounding `sounding_shift` semitones above the keys the fingers are on, and the frames."""
    rng = np.random.default_rng(seed)
    notes, frames = [], []
    for i in range(count):
        t = 0.5 + 0.4 * i
        key = int(rng.integers(50, 80))
        # The other fingers rest on keys nearby, in a hand shape that changes from note to note.
        spread = rng.choice([-7, -5, -4, -3, -2, 2, 3, 4, 5, 7], size=3, replace=False)
        neighbours = [key + int(d) for d in spread if keymap.key(key + int(d)) is not None]
        frames.append(_hands(t, keymap, [key] + neighbours))
        notes.append(NoteEvent(key + sounding_shift, t, t + 0.3, 80, "midi-file"))
    return notes, frames


def test_fingertip_on_a_key_votes_for_the_shift_that_names_it(keymap):
    tips = keymap.to_plane([keymap.key(60).center, keymap.key(64).center])
    assert note_shifts(72, tips, keymap, candidates=set(range(-24, 25))) == {12, 8}
    assert note_shifts(72, tips, keymap, candidates={-12, 0, 12}) == {12}


def test_decision_needs_a_clear_winner_and_says_how_many_notes():
    from collections import Counter
    assert not decide(Counter({12: 5}), 5).decided            # too few notes yet
    assert not decide(Counter({12: 9, 0: 8}), 12).decided     # no clear winner
    verdict = decide(Counter({12: 10, 2: 4, -3: 3}), 12)
    assert verdict.shift == 12 and verdict.notes == 12


def test_an_octave_off_map_is_numbered_from_a_recorded_performance(keymap):
    notes, frames = _performance(keymap, sounding_shift=-24)
    verdict, offset = number_from_notes(notes, frames, keymap, offsets=[0.0])
    assert verdict.shift == -24 and verdict.votes[-24] == len(notes)
    fixed = renumber(keymap, verdict.shift)
    assert fixed.numbered_by == "notes" and fixed.midis == [m - 24 for m in keymap.midis]
    # The renumbered map puts every key where it was, under its right name.
    assert np.allclose(fixed.key(36).center, keymap.key(60).center)
    with pytest.raises(ValueError, match="black keys on white"):
        renumber(keymap, 5)


def test_renumbering_moves_the_names_not_the_keys():
    """A map with a row warp (keys bending off one homography), renumbered an octave up: every key
    stays where it was in the image, only its name changes."""
    to_image = np.array([[SCALE, 0, SHIFT[0]], [0, SCALE, SHIFT[1]], [0, 0, 1]])
    warp = {"centre": 7000.0, "scale": 600.0, "coef": [3.0, -1.0, 2.0, 0.5]}
    bent = build_keymap(np.linalg.inv(to_image), (1280, 400), range(48, 85), row_warp=warp)
    moved = renumber(bent, 12)
    assert moved.midis == [m + 12 for m in bent.midis]
    for key in bent.keys:
        assert np.allclose(moved.key(key.midi + 12).center, key.center, atol=0.05), key.name
        assert np.allclose(moved.key(key.midi + 12).polygon, key.polygon, atol=0.05), key.name


def test_octave_candidates_keep_the_keys_on_a_piano(keymap):
    assert octave_candidates(keymap) == {-24, -12, 0, 12, 24}


def test_live_watch_finds_a_knock_and_an_octave_error(keymap):
    calls = []
    current = {"map": keymap}
    watch = NumberingWatch(lambda: current["map"], lambda shift, verdict: calls.append((shift, verdict.notes)))
    notes, frames = _performance(keymap, sounding_shift=0, count=20)
    for note, hands in zip(notes, frames):
        watch.add_notes([note])
        watch.add_frame(hands)
    assert calls == []                                        # numbered right: nothing to say
    notes, frames = _performance(keymap, sounding_shift=12, count=30, seed=1)
    for note, hands in zip(notes, frames):
        note.onset += 10
        hands.t += 10
        watch.add_notes([note])
        watch.add_frame(hands)
    assert calls and calls[0][0] == 12 and calls[0][1] <= 24  # an octave off: found from the notes
    calls.clear()
    notes, frames = _performance(keymap, sounding_shift=1, count=30, seed=2)
    for note, hands in zip(notes, frames):
        note.onset += 30
        hands.t += 30
        watch.add_notes([note])
        watch.add_frame(hands)
    assert calls and calls[0][0] == 1                        # the map a key off: a semitone error is seen


def test_provisional_map_of_a_view_without_ends():
    scene = Scene(SceneSpec(seed=5, keys=88, seconds=2.0, tilt=12.0, rotate=-8.0, lighting="uneven"))
    keymap = provisional_keymap(scene.frame(30)[0])
    assert keymap is not None and keymap.numbered_by == "provisional"
    # Named in some octave: the pitch classes are right, the octave is what the notes will tell.
    truth = {k["midi"] % 12 for k in scene.keys if k["visible"]}
    assert {m % 12 for m in keymap.midis} <= truth


def test_fingering_cli_numbers_an_88_key_view_without_ends_from_the_notes(tmp_path):
    # Framed to ~61 keys of an 88-key keyboard: neither end in view, no hint given.
    folder = cached_scene(SceneSpec(seed=11, keys=88, seconds=12.0), tmp_path / "scenes")
    truth = json.loads((folder / "truth.json").read_text())
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "fingering", "--video",
                             str(folder / "video.mp4"), "--midi", str(folder / "performance.mid")],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "numbered from the notes" in result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.strip()]
    notes = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
    assert len(rows) == len(notes)
    right = sum(r[2] == n["hand"] and r[3] == str(n["finger"]) for r, n in zip(rows, notes))
    assert right / len(notes) >= 0.97, f"{right}/{len(notes)}"

"""The scene renderer: determinism, keyboard geometry, playable fingering, files, and real MediaPipe."""
from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest

from pianocam.scene import Scene, SceneSpec, render_scene
from pianocam.scene.keyboard import is_black, keyboard_keys
from pianocam.scene.motion import HandMotion
from pianocam.scene.score import PIECES, compose

LOWEST = {49: 36, 61: 36, 76: 28, 88: 21}


def test_same_seed_gives_same_truth_and_pixels():
    a, b = Scene(SceneSpec(seed=3, seconds=2)), Scene(SceneSpec(seed=3, seconds=2))
    assert a.notes == b.notes and a.keys == b.keys
    for i in (0, 17, a.frame_count - 1):
        img_a, truth_a = a.frame(i)
        img_b, truth_b = b.frame(i)
        assert truth_a == truth_b
        assert np.array_equal(img_a, img_b)
    assert a.frame(17)[1] == a.frame_truth(17)


def test_different_seed_gives_different_notes():
    assert Scene(SceneSpec(seed=1, seconds=4)).notes != Scene(SceneSpec(seed=2, seconds=4)).notes


@pytest.mark.parametrize("count", [49, 61, 76, 88])
def test_keyboard_geometry(count):
    scene = Scene(SceneSpec(keys=count, seconds=0.5))
    keys = scene.keys
    assert len(keys) == count
    assert keys[0]["midi"] == LOWEST[count] and keys[-1]["midi"] == LOWEST[count] + count - 1
    assert keys[0]["name"] == {21: "A0", 28: "E1", 36: "C2"}[LOWEST[count]]
    assert [k["black"] for k in keys] == [k["midi"] % 12 in (1, 3, 6, 8, 10) for k in keys]
    for k in keys:
        poly = np.array(k["polygon"], np.float32)
        assert cv2.pointPolygonTest(poly, tuple(k["center"]), False) > 0, k["name"]
    # Black keys come in groups of two and three: small gaps inside a group, wide between.
    xs = sorted(k["center"][0] for k in keys if k["black"])
    gaps = np.diff(xs)
    wide = gaps > 1.25 * gaps.min()
    runs, run = [], 1
    for w in wide:
        if w:
            runs.append(run)
            run = 1
        else:
            run += 1
    assert set(runs[1:]) == {2, 3}
    assert all(a != b for a, b in zip(runs[1:], runs[2:]))


@pytest.mark.parametrize("count", [61, 88])
def test_played_keys_are_visible_and_outer_keys_flagged(count):
    scene = Scene(SceneSpec(keys=count, seconds=6))
    visible = {k["midi"]: k["visible"] for k in scene.keys}
    assert all(visible[n["pitch"]] for n in scene.notes)
    if count == 88:
        assert not visible[21] and not visible[108]


@pytest.mark.parametrize("piece", PIECES)
@pytest.mark.parametrize("seed", [0, 7])
def test_notes_are_fingered_and_reachable(piece, seed):
    notes = compose(piece, seed, 12.0, 100.0)
    assert notes == sorted(notes, key=lambda n: n["onset"])
    assert {n["hand"] for n in notes} == {"left", "right"}
    for n in notes:
        assert 1 <= n["finger"] <= 5 and 0 <= n["onset"] < n["offset"] <= 12.0
        assert 1 <= n["velocity"] <= 127
    keys = {k.midi: k for k in keyboard_keys(61)}
    for hand in ("left", "right"):
        motion = HandMotion(hand, notes, keys, keys[60].press_point[0], np.random.default_rng(0))
        assert motion.reach_errors() == []
    # A finger never plays two keys at once.
    for hand in ("left", "right"):
        for finger in range(1, 6):
            spans = sorted((n["onset"], n["offset"]) for n in notes if n["hand"] == hand and n["finger"] == finger)
            assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))


def test_one_hand_pieces_draw_one_hand():
    scene = Scene(SceneSpec(seconds=2, hands="left"))
    assert {n["hand"] for n in scene.notes} == {"left"}
    assert set(scene.frame(10)[1]["hands"]) == {"left"}


def test_pressed_fingertips_are_on_their_keys():
    scene = Scene(SceneSpec(seed=5, seconds=4))
    polys = {k["midi"]: np.array(k["polygon"], np.float32) for k in scene.keys}
    checked = 0
    for i in range(0, scene.frame_count, 3):
        truth = scene.frame_truth(i)
        t = truth["t"]
        for n in scene.notes:
            if n["onset"] <= t <= n["offset"]:
                tip = truth["hands"][n["hand"]]["fingertips"][str(n["finger"])]
                assert cv2.pointPolygonTest(polys[n["pitch"]], tuple(tip), False) > 0
                # Deep on a white key the finger sits between the black keys, not on one.
                if not is_black(n["pitch"]):
                    assert all(cv2.pointPolygonTest(polys[m], tuple(tip), False) < 0
                               for m in (n["pitch"] - 1, n["pitch"] + 1) if m in polys and is_black(m))
                checked += 1
    assert checked > 20


@pytest.mark.parametrize("seed", [3, 103])
def test_chord_hands_keep_a_hand_shape(seed):
    """At every chord onset the fingers lie in order and the thumb stays back by the palm."""
    notes = compose("chords", seed, 12.0, 100.0)
    keys = {k.midi: k for k in keyboard_keys(61)}
    for hand in ("left", "right"):
        motion = HandMotion(hand, notes, keys, keys[60].press_point[0], np.random.default_rng(0))
        for onset in sorted({n["onset"] for n in notes if n["hand"] == hand}):
            x, y, yaw = motion.anchor(onset)
            tips = [motion.to_local((x, y), yaw, motion.landmarks(onset)[i]) for i in (4, 8, 12, 16, 20)]
            across = [a for a, _ in tips]
            assert across == sorted(across), (hand, onset, across)
            assert all(tips[0][1] < tips[f][1] - 20 for f in (1, 2, 3)), (hand, onset, tips)
            # Pressed keys sit under the fingers, not at the end of a stretched reach.
            x_gap = [abs(motion.press(f, onset)[1][0] - x) for f in (1, 3, 5) if motion.press(f, onset)[0] > 0]
            assert max(x_gap) < 110


@pytest.mark.slow
def test_render_scene_writes_matching_files(tmp_path):
    mido = pytest.importorskip("mido")
    spec = SceneSpec(seed=4, seconds=2, width=480, height=270)
    out = render_scene(spec, tmp_path)
    assert out["frames"] == 60
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["spec"] == spec.to_dict() and len(truth["frames"]) == 60
    assert truth["width"] == 480 and len(truth["homography"]) == 3
    video = cv2.VideoCapture(out["video"])
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) == 60
    video.release()
    played, sounding, now = [], {}, 0.0
    for msg in mido.MidiFile(out["midi"]):
        now += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            sounding[(msg.channel, msg.note)] = (now, msg.velocity)
        elif msg.type in ("note_off", "note_on"):
            onset, velocity = sounding.pop((msg.channel, msg.note))
            played.append((msg.note, onset, now, velocity, "right" if msg.channel == 0 else "left"))
    expected = sorted((n["pitch"], n["onset"], n["offset"], n["velocity"], n["hand"]) for n in truth["notes"])
    played.sort()
    assert len(played) == len(expected)
    for got, want in zip(played, expected):
        assert got[0] == want[0] and got[3:] == want[3:]
        assert abs(got[1] - want[1]) < 2e-3 and abs(got[2] - want[2]) < 2e-3
    if shutil.which("fluidsynth"):
        assert out["audio"] and (tmp_path / "audio.wav").stat().st_size > 44
    render_scene(spec, tmp_path / "silent", audio=False)
    assert not (tmp_path / "silent" / "audio.wav").exists()


@pytest.mark.slow
def test_mediapipe_finds_both_hands_on_their_fingertips():
    mp = pytest.importorskip("mediapipe")
    scene = Scene(SceneSpec(seed=7, keys=61, seconds=10))
    size = np.array([scene.spec.width, scene.spec.height])
    both, errors = 0, []
    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=1,
                                  min_detection_confidence=0.5) as hands:
        for i in range(0, 60, 3):
            img, truth = scene.frame(i)
            result = hands.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
            found = set()
            for lms in result.multi_hand_landmarks or []:
                tips = np.array([[lms.landmark[j].x, lms.landmark[j].y] for j in (4, 8, 12, 16, 20)]) * size
                for hand, drawn in truth["hands"].items():
                    err = np.linalg.norm(tips - np.array(list(drawn["fingertips"].values())), axis=1)
                    if err.mean() < 40 and hand not in found:
                        found.add(hand)
                        errors.extend(err)
            both += found == {"left", "right"}
    assert both >= 18, f"both hands in {both}/20 frames"
    assert np.median(errors) < 5.0

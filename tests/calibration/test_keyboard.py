"""KeyMap: key_at, distances in white-key widths, the keymap.json round trip."""
from __future__ import annotations

import json

import numpy as np
import pytest

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.keymap import KeyMap, note_name, parse_note


@pytest.fixture(scope="module")
def keymap61(flat61):
    return detect_keymap(flat61[1])


def test_note_names_round_trip():
    assert parse_note("A0") == 21 and parse_note("C4") == 60 and parse_note("Gb3") == parse_note("F#3") == 54
    assert all(parse_note(note_name(m)) == m for m in range(21, 109))
    with pytest.raises(ValueError, match="not a note name"):
        parse_note("H2")


def test_key_at_names_the_key_under_every_truth_centre(flat61, keymap61):
    scene, _ = flat61
    for k in scene.keys:
        found = keymap61.key_at(*k["center"])
        assert found is not None and found.midi == k["midi"], k["name"]
    # Off the keys: far above the fallboard and below the front edge.
    assert keymap61.key_at(480, 5) is None
    assert keymap61.key_at(480, 530) is None


def test_distances_are_in_white_key_widths(flat61, keymap61):
    scene, _ = flat61
    c4 = next(k for k in scene.keys if k["name"] == "C4")["center"]
    d4 = next(k for k in scene.keys if k["name"] == "D4")["center"]
    c5 = next(k for k in scene.keys if k["name"] == "C5")["center"]
    assert keymap61.distance(c4, d4) == pytest.approx(1.0, abs=0.05)
    assert keymap61.distance_along(c4, c5) == pytest.approx(7.0, abs=0.1)
    assert keymap61.distance_along(c5, c4) == pytest.approx(-7.0, abs=0.1)
    assert keymap61.distance_to_key(c4, 60) < 0.1


def test_keymap_json_round_trip(tmp_path, keymap61):
    path = tmp_path / "keymap.json"
    keymap61.save(path)
    data = json.loads(path.read_text())
    assert data["schema"] == 1 and data["image_size"] == [960, 540] and len(data["homography"]) == 3
    assert {"midi", "name", "black", "polygon", "center"} <= set(data["keys"][0])
    again = KeyMap.load(path)
    assert again.midis == keymap61.midis and again.partial is False and again.keyboard_keys == 61
    assert np.allclose(again.homography, keymap61.homography)
    assert again.key_at(*keymap61.key(60).center).midi == 60


def test_keymap_of_another_schema_is_refused(tmp_path, keymap61):
    data = keymap61.to_dict()
    data["schema"] = 99
    with pytest.raises(ValueError, match="schema 99"):
        KeyMap.from_dict(data)
    with pytest.raises(ValueError, match="not a pianocam keymap"):
        KeyMap.from_dict({"keys": []})

"""`pianocam calibrate` end to end: files written, exit codes, the manual fallback, video sources."""
from __future__ import annotations

import json

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.commands.cli import build_parser
from tests.calibration.conftest import truth_error


def _run(argv) -> int:
    args = build_parser().parse_args(["calibrate", *argv])
    return args.func(args)


def test_image_to_keymap_and_overlay(tmp_path, flat61, capsys):
    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), flat61[1])
    out, overlay = tmp_path / "keymap.json", tmp_path / "overlay.png"
    assert _run(["--image", str(frame), "--out", str(out), "--overlay", str(overlay)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["keys"] == 61 and summary["lowest_in_view"] == "C2" and summary["partial"] is False
    assert KeyMap.load(out).keyboard_keys == 61
    drawn = cv2.imread(str(overlay))
    assert drawn.shape == flat61[1].shape and np.any(drawn != flat61[1])


def test_bad_input_exits_2_with_a_message(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((360, 640, 3), 90, np.uint8))
    assert _run(["--image", str(blank), "--out", str(tmp_path / "k.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("pianocam calibrate: no piano keyboard found")
    assert not (tmp_path / "k.json").exists()
    assert _run(["--image", str(tmp_path / "missing.png"), "--out", str(tmp_path / "k.json")]) == 2
    assert "cannot read an image" in capsys.readouterr().err
    assert _run(["--image", str(blank), "--out", str(tmp_path / "k.json"), "--lowest", "H9"]) == 2


def test_manual_corners(tmp_path, flat61):
    scene, image = flat61
    frame = tmp_path / "frame.png"
    cv2.imwrite(str(frame), image)
    keys = {k["name"]: k["polygon"] for k in scene.keys}
    corners = [keys["C2"][0], keys["C7"][1], keys["C7"][2], keys["C2"][3]]
    text = ",".join(f"{v:.1f}" for p in corners for v in p)
    out = tmp_path / "keymap.json"
    assert _run(["--image", str(frame), "--out", str(out), "--corners", text, "--keys", "61"]) == 0
    keymap = KeyMap.load(out)
    assert keymap.method == "corners" and keymap.midis == list(range(36, 97))
    assert np.all(truth_error(keymap, scene) <= 0.25)
    assert _run(["--image", str(frame), "--out", str(out), "--corners", text]) == 2          # no --keys
    backwards = ",".join(f"{v:.1f}" for p in corners[::-1] for v in p)
    assert _run(["--image", str(frame), "--out", str(out), "--corners", backwards, "--keys", "61"]) == 2


def test_video_source(tmp_path, flat61):
    video = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 30, (960, 540))
    for _ in range(3):
        writer.write(flat61[1])
    writer.release()
    assert _run(["--source", str(video), "--out", str(tmp_path / "k.json")]) == 0
    assert KeyMap.load(tmp_path / "k.json").midis[0] == 36

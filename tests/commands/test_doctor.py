"""`pianocam doctor` against a real broker, a missing broker and camera, key maps and models."""
import json
import os
import shutil
import subprocess
import sys

import cv2
import numpy as np

from pianocam.calibration.live import calibrate_frame
from pianocam.commands.doctor import (
    check_broker,
    check_calibration,
    check_hand_models,
    check_source,
    check_technique_model,
)
from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.technique.estimator import DEFAULT_MODEL_DIR
from tests.conftest import Inbox


def test_hand_models_are_bundled():
    assert check_hand_models().ok


def test_broker_check_connects_without_touching_the_units_status(mosquitto):
    config = load_config(environ={"PIANOCAM_MQTT_HOST": mosquitto.host, "PIANOCAM_MQTT_PORT": str(mosquitto.port),
                                  "PIANOCAM_UNIT_ID": "probed"})
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id="probed", on_message=inbox)
    assert watcher.start()
    check = check_broker(config)
    assert check.ok, check.detail
    watcher.stop()
    assert inbox.of("status") == []


def test_missing_broker_and_camera_say_what_to_fix(tmp_path):
    env = {**os.environ, "PIANOCAM_MQTT_PORT": "1", "PIANOCAM_MQTT_HOST": "127.0.0.1",
           "PIANOCAM_SOURCE_KIND": "v4l2", "PIANOCAM_SOURCE_URI": "/dev/video63",
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "j.sqlite")}
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "doctor", "--json"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    checks = {c["name"]: c for c in json.loads(result.stdout)}
    assert not checks["broker"]["ok"] and "127.0.0.1:1" in checks["broker"]["detail"]
    assert not checks["frame source"]["ok"] and "/dev/video63" in checks["frame source"]["detail"]
    assert "video" in checks["frame source"]["fix"]
    assert checks["journal"]["ok"] and checks["hand models"]["ok"]


def test_source_check_reads_a_frame(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    config = load_config(environ={"PIANOCAM_SOURCE_SCENE_SECONDS": "1"})
    check = check_source(config)
    assert check.ok and "960x540" in check.detail


def _scene_frame(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    frames = []
    assert check_source(load_config(environ={"PIANOCAM_SOURCE_SCENE_SECONDS": "1"}), frames=frames).ok
    return frames[0]


def test_calibration_check_maps_compares_and_notices_a_moved_camera(tmp_path, monkeypatch):
    image = _scene_frame(tmp_path, monkeypatch)
    keymap_path = tmp_path / "keymap.json"
    # The rendered hands hide the left end, so the keyboard size is given, as in `pianocam demo`.
    config = load_config(environ={"PIANOCAM_CALIBRATION_KEYMAP": str(keymap_path), "PIANOCAM_CALIBRATION_KEYS": "61"})

    # No map yet: the doctor says what the unit will map, and writes nothing.
    check = check_calibration(config, image)
    assert check.ok and "no key map yet" in check.detail and "61 keys (C2–C7)" in check.detail, check.detail
    assert not keymap_path.exists()

    keymap, error = calibrate_frame(image, config.calibration)
    keymap.save(keymap_path)
    check = check_calibration(config, image)
    assert check.ok and "matches the camera" in check.detail, check.detail

    # The camera knocked 30 px sideways: the map no longer fits.
    moved = np.roll(image, 30, axis=1)
    check = check_calibration(config, moved)
    assert not check.ok and "moved" in check.detail and "calibrate" in check.fix

    # A camera now giving another size: the unit maps afresh, as it would with a broken file.
    check = check_calibration(config, cv2.resize(image, (640, 360)))
    assert check.ok and "960x540 frames, the camera gives 640x360" in check.detail, check.detail

    keymap_path.write_text("{not json")
    check = check_calibration(config, image)
    assert check.ok and "unusable" in check.detail and "the unit will map" in check.detail, check.detail
    check = check_calibration(config, None)
    assert not check.ok and "unusable" in check.detail and "frame source" in check.fix

    # No map and a frame of something else: what was not found, and how to fix it.
    keymap_path.unlink()
    noise = np.random.default_rng(0).integers(0, 255, image.shape, dtype=np.uint8)
    check = check_calibration(config, noise)
    assert not check.ok and "cannot be mapped" in check.detail and "corners" in check.fix
    # The refusal comes with a picture of the frame and the reason, next to where the map would be.
    picture = keymap_path.with_name("calibration-refused.png")
    assert str(picture) in check.detail and cv2.imread(str(picture)) is not None


def test_technique_check_loads_the_model_and_names_a_mismatch(tmp_path):
    assert check_technique_model(load_config(environ={})).ok
    broken = tmp_path / "technique"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    artifact = broken / "technique.int8.onnx"
    artifact.write_bytes(artifact.read_bytes()[:-16] + bytes(16))
    check = check_technique_model(load_config(environ={"PIANOCAM_TECHNIQUE_MODEL_DIR": str(broken)}))
    assert not check.ok and "sha256" in check.detail and "export" in check.fix
    off = check_technique_model(load_config(environ={"PIANOCAM_TECHNIQUE_ENABLED": "false"}))
    assert off.ok and "disabled" in off.detail


def test_calibration_check_of_a_view_without_ends_says_the_notes_will_number_it(tmp_path):
    from pianocam.scene import Scene, SceneSpec

    image = Scene(SceneSpec(seed=5, keys=88, seconds=2.0)).frame(30)[0]
    keymap_path = tmp_path / "keymap.json"
    check = check_calibration(load_config(environ={"PIANOCAM_CALIBRATION_KEYMAP": str(keymap_path)}), image)
    assert check.ok and "numbers them from the first notes" in check.detail, check.detail
    assert cv2.imread(str(keymap_path.with_name("calibration-refused.png"))) is not None

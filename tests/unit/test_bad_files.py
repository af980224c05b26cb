"""Every bad file or setting: one line naming the file or key, exit 2, no traceback; optional stages turn off."""
import importlib.util
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pianocam.config import ConfigError, load_config

SITE = Path(importlib.util.find_spec("mediapipe").submodule_search_locations[0]).parent


def pianocam(*args, env=None, tmp_path=None, timeout=240):
    environ = {**os.environ, "PIANOCAM_MQTT_PORT": "1", "PIANOCAM_MQTT_HOST": "127.0.0.1",
               "PIANOCAM_SOURCE_SCENE_SECONDS": "2", "PIANOCAM_TECHNIQUE_ENABLED": "false", **(env or {})}
    if tmp_path is not None:
        environ.setdefault("PIANOCAM_JOURNAL_PATH", str(tmp_path / "journal.sqlite"))
        environ.setdefault("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return subprocess.run([sys.executable, "-m", "pianocam.commands.cli", *args], env=environ,
                          capture_output=True, text=True, timeout=timeout)


def one_line_exit_2(run, *names):
    """The run ended with exit 2 and a single pianocam: line naming each of names, no traceback."""
    assert run.returncode == 2, (run.returncode, run.stderr[-3000:])
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    lines = [line for line in run.stderr.splitlines() if line.startswith("pianocam:")]
    assert len(lines) == 1, run.stderr[-3000:]
    for name in names:
        assert str(name) in lines[0], lines[0]
    return lines[0]


# --- 3: binary or directory config, binary password file ---

def test_a_binary_config_file_is_one_line(tmp_path):
    bad = tmp_path / "pianocam.toml"
    bad.write_bytes(bytes(range(256)) * 4)
    one_line_exit_2(pianocam("config", "--config", str(bad)), bad, "UTF-8")


def test_a_directory_as_config_is_one_line(tmp_path):
    one_line_exit_2(pianocam("config", "--config", str(tmp_path)), tmp_path, "directory")


def test_a_binary_password_file_is_one_line(tmp_path):
    secret = tmp_path / "password"
    secret.write_bytes(b"\xff\xfe\x00garbage\x80")
    run = pianocam("config", env={"PIANOCAM_MQTT_PASSWORD_FILE": str(secret)})
    one_line_exit_2(run, "mqtt.password_file", secret)


# --- 4: tracker settings out of range ---

@pytest.mark.parametrize("text,key", [
    ("[tracker]\nmax_hands = 0\n", "tracker.max_hands"),
    ("[tracker]\nmin_detection_confidence = 7.5\n", "tracker.min_detection_confidence"),
    ("[tracker]\nmin_tracking_confidence = -0.1\n", "tracker.min_tracking_confidence"),
    ("[journal]\nmax_mb = 0\n", "journal.max_mb"),
    ("[journal]\nmax_age_days = -1\n", "journal.max_age_days"),
])
def test_out_of_range_settings_name_their_key(tmp_path, text, key):
    path = tmp_path / "unit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path, environ={})


def test_max_hands_zero_stops_the_daemon_with_one_line(tmp_path):
    run = pianocam("run", "--seconds", "1", env={"PIANOCAM_TRACKER_MAX_HANDS": "0"}, tmp_path=tmp_path)
    one_line_exit_2(run, "tracker.max_hands")


# --- 5: a key map of the wrong shape ---

@pytest.mark.parametrize("content", [b"[1, 2, 3]", b'{"kind": "pianocam.keymap", "schema": 1, "keys": 7}',
                                     b"\x00\xff binary", b'{"kind": "pianocam.keymap", "schema": 1, "keys": [{}]}'])
def test_an_unusable_key_map_is_mapped_afresh(tmp_path, caplog, content):
    from pianocam.scene.source import open_configured
    from pianocam.unit.assembly import Unit

    keymap = tmp_path / "keymap.json"
    keymap.write_bytes(content)
    config = load_config(environ={})
    config.mqtt.port, config.technique.enabled = 1, False
    config.journal.path, config.calibration.keymap = str(tmp_path / "j.sqlite"), str(keymap)
    with caplog.at_level(logging.ERROR):
        unit = Unit(config, source=open_configured(config.source))
    try:
        assert unit.assigner.keymap is None
        assert "unusable key map" in caplog.text and "mapping afresh" in caplog.text
    finally:
        unit.tracker.close()
        unit.journal.close()


# --- 6: a technique manifest that is not JSON ---

@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe", b"[1, 2]", b'{"features": 3}'])
def test_a_technique_manifest_that_is_not_json_turns_only_that_stage_off(tmp_path, content):
    from pianocam.scene.source import open_configured
    from pianocam.technique.estimator import DEFAULT_MODEL_DIR
    from pianocam.unit.assembly import Unit

    broken = tmp_path / "technique"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    (broken / "technique.int8.json").write_bytes(content)
    config = load_config(environ={})
    config.mqtt.port, config.journal.path = 1, str(tmp_path / "j.sqlite")
    config.technique.model_dir = str(broken)
    unit = Unit(config, source=open_configured(config.source))
    try:
        assert unit.technique is None and unit.technique_state.startswith("unavailable")
        assert "technique.int8.json" in unit.technique_state
    finally:
        unit.tracker.close()
        unit.journal.close()


# --- 7: a garbage or truncated hand model in the mediapipe package ---

def mediapipe_copy(tmp_path, damage):
    """A copy of the installed mediapipe package (links, but the damaged model a real file of its own)."""
    packages = tmp_path / "packages"
    shutil.copytree(SITE / "mediapipe", packages / "mediapipe", symlinks=False,
                    copy_function=os.symlink)
    if (SITE / "mediapipe.libs").exists():  # the wheel's bundled libraries, found beside the package
        os.symlink(SITE / "mediapipe.libs", packages / "mediapipe.libs")
    model = packages / "mediapipe" / "modules" / "hand_landmark" / "hand_landmark_lite.tflite"
    original = model.read_bytes()
    model.unlink()
    model.write_bytes(damage(original))
    return packages, model


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 3], lambda b: bytes(len(b))],
                         ids=["truncated", "garbage"])
def test_a_damaged_hand_model_is_one_line_before_mediapipe_loads_it(tmp_path, damage):
    packages, model = mediapipe_copy(tmp_path, damage)
    run = pianocam("run", "--seconds", "1", env={"PYTHONPATH": f"{packages}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"},
                   tmp_path=tmp_path)
    one_line_exit_2(run, model)


# --- 8: a garbage or missing MIDI file ---

@pytest.mark.parametrize("content", [b"MThd garbage \x00\x01", None], ids=["garbage", "missing"])
def test_a_bad_midi_file_is_one_line(tmp_path, content):
    midi = tmp_path / "take.mid"
    if content is not None:
        midi.write_bytes(content)
    run = pianocam("run", "--seconds", "1", env={"PIANOCAM_NOTES_KIND": "midi-file",
                                                 "PIANOCAM_NOTES_PATH": str(midi)}, tmp_path=tmp_path)
    one_line_exit_2(run, midi)


# --- 9: a garbage basic-pitch model ---

def test_a_garbage_basic_pitch_model_turns_only_the_notes_stage_off(tmp_path):
    import soundfile

    spec = importlib.util.find_spec("basic_pitch")
    if spec is None:
        pytest.skip("basic-pitch is not installed")
    packages = tmp_path / "packages"
    shutil.copytree(Path(spec.submodule_search_locations[0]), packages / "basic_pitch", copy_function=os.symlink)
    model = packages / "basic_pitch" / "saved_models" / "icassp_2022" / "nmp.onnx"
    model.unlink()
    model.write_bytes(b"\x08\x07 not an onnx model " * 100)
    wav = tmp_path / "take.wav"
    t = np.arange(22050 * 2) / 22050
    soundfile.write(wav, 0.3 * np.sin(2 * np.pi * 440 * t).astype(np.float32), 22050)
    run = pianocam("run", "--seconds", "3", tmp_path=tmp_path,
                   env={"PIANOCAM_NOTES_KIND": "audio-file", "PIANOCAM_NOTES_PATH": str(wav),
                        "PYTHONPATH": f"{packages}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"})
    assert run.returncode == 0, (run.returncode, run.stderr[-3000:])
    assert "Traceback" not in run.stderr and "notes stage disabled" in run.stderr and "nmp.onnx" in run.stderr


def test_debug_shows_the_traceback(tmp_path):
    run = pianocam("--debug", "config", "--config", str(tmp_path))
    assert run.returncode != 0 and "Traceback" in run.stderr and "ConfigError" in run.stderr

"""`pianocam doctor` against a real broker, a missing broker, and a missing camera."""
import json
import os
import subprocess
import sys

from pianocam.device.config import load_config
from pianocam.device.doctor import check_broker, check_hand_models, check_source
from pianocam.device.publisher import Watcher

from ..conftest import Inbox



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
    result = subprocess.run([sys.executable, "-m", "pianocam.device.cli", "doctor", "--json"], env=env,
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

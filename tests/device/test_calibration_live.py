"""The daemon's calibration: drift published when the camera moved, a fresh map on cmd/recalibrate."""
import json
import threading
import time

import numpy as np
import paho.mqtt.client as mqtt

from pianocam.calibration.detect import detect_keymap
from pianocam.device.config import load_config
from pianocam.device.keyboard import WHITE_KEY_WIDTH, build_keymap
from pianocam.device.publisher import Watcher
from pianocam.device.scene import SceneSpec
from pianocam.device.sources.scene import cached_scene
from pianocam.device.sources.video import VideoFileSource
from pianocam.device.unit import Unit

from ..conftest import Inbox, wait_until





def test_knocked_camera_is_reported_and_recalibration_fixes_it(mosquitto, tmp_path):
    folder = cached_scene(SceneSpec(seed=5, keys=61, seconds=3.0), tmp_path / "scenes")
    with VideoFileSource(str(folder / "video.mp4"), realtime=False) as source:
        first = source.read().image
    good = detect_keymap(first)
    # The map the unit holds is from before the camera was knocked 0.6 keys sideways.
    shift = np.array([[1.0, 0, 0.6 * WHITE_KEY_WIDTH], [0, 1, 0], [0, 0, 1]]) @ good.homography
    build_keymap(shift, good.image_size, good.midis, black_key_length=good.black_key_length,
                 method="auto").save(tmp_path / "keymap.json")

    config = load_config(environ={})
    config.unit_id = "drifty"
    config.mqtt.host, config.mqtt.port = mosquitto.host, mosquitto.port
    config.journal.path = str(tmp_path / "journal.sqlite")
    config.calibration.keymap = str(tmp_path / "keymap.json")
    config.calibration.drift_interval = 1.0
    config.source.kind, config.source.uri, config.source.loop = "video", str(folder / "video.mp4"), True
    config.notes.kind = "none"
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id="drifty", on_message=inbox)
    assert watcher.start()
    unit = Unit(config)
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 40, "handle_signals": False})
    runner.start()
    try:
        assert wait_until(lambda: any(c["state"] == "drifted" for c in inbox.of("calibration")), 20)
        drifted = next(c for c in inbox.of("calibration") if c["state"] == "drifted")
        assert drifted["mean_error_key_widths"] > 0.25 and "white-key widths" in drifted["reason"]

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        client.publish("pianocam/drifty/cmd/recalibrate", json.dumps({"transaction": "r1"}), qos=1).wait_for_publish(5)
        assert wait_until(lambda: any(r.get("transaction") == "r1" and r["ok"] for r in inbox.of("response")), 10)
        count = len(inbox.of("calibration"))
        # After the fresh map, the next drift check finds the camera where the map says.
        assert wait_until(lambda: any(c["state"] == "ok" and c.get("mean_error_key_widths") is not None
                                 for c in inbox.of("calibration")[count:]), 20)
        client.loop_stop()
    finally:
        unit.stop_event.set()
        runner.join(20)
        watcher.stop()

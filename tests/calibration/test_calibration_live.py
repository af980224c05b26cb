"""The daemon's calibration: drift published when the camera moved, a fresh map on cmd/recalibrate."""
import json
import threading

import numpy as np
import paho.mqtt.client as mqtt

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.keymap import WHITE_KEY_WIDTH, build_keymap
from pianocam.calibration.live import calibrate_frame
from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.scene import Scene, SceneSpec
from pianocam.scene.source import cached_scene, open_configured
from pianocam.sources.video import VideoFileSource
from pianocam.unit.assembly import Unit
from tests.conftest import Inbox, wait_until


def _pan(image, pixels):
    """The camera turned sideways: the picture moves by `pixels` (negative: to the left)."""
    import cv2

    return cv2.warpAffine(image, np.float32([[1, 0, pixels], [0, 1, 0]]), image.shape[1::-1])


def _numbering_right(keymap, scene, pixels) -> bool:
    truth = {k["midi"]: np.asarray(k["center"], float) + (pixels, 0) for k in scene.keys}
    midis = list(truth)
    centres = np.array([truth[m] for m in midis])
    return all(midis[int(np.argmin(np.hypot(*(centres - key.center).T)))] == key.midi for key in keymap.keys)


def test_recalibration_keeps_the_numbering_when_the_first_c_hint_goes_stale():
    # An 88-key keyboard framed to about 61 keys: neither end in view, so the installer named the
    # leftmost C in view (C2, 2.5 white keys from the left edge). Then the camera is knocked 2.8
    # white keys to the right: C2 leaves the view and the leftmost C is now C3.
    scene = Scene(SceneSpec(seed=0, keys=88, seconds=2.0))
    image, _ = scene.frame(0)
    config = load_config(environ={"PIANOCAM_CALIBRATION_FIRST_C": "C2"})
    installed, error = calibrate_frame(image, config.calibration)
    assert installed is not None and installed.partial and _numbering_right(installed, scene, 0), error
    pixels = -2.8 * installed.white_key_width_px
    knocked = _pan(image, pixels)

    stale, _ = calibrate_frame(knocked, config.calibration)  # the hint alone: an octave off, silently
    assert stale is not None and not _numbering_right(stale, scene, pixels)
    assert min(k.midi for k in stale.keys if k.midi % 12 == 0) == 36

    kept, error = calibrate_frame(knocked, config.calibration, previous=installed)
    assert kept is not None and _numbering_right(kept, scene, pixels), error
    assert min(k.midi for k in kept.keys if k.midi % 12 == 0) == 48
    # Without any hint the previous map alone numbers the view.
    bare, error = calibrate_frame(knocked, load_config(environ={}).calibration, previous=installed)
    assert bare is not None and _numbering_right(bare, scene, pixels), error
    assert calibrate_frame(knocked, load_config(environ={}).calibration)[0] is None

    # Moved about half an octave: 3.4 keys one way looks like 3.6 the other, so the old map does not
    # speak; without a hint that is an error saying so, with one the hint is taken.
    far = _pan(image, -3.4 * installed.white_key_width_px)
    keymap, error = calibrate_frame(far, load_config(environ={}).calibration, previous=installed)
    assert keymap is None and "previous key map does not tell" in error
    hinted = load_config(environ={"PIANOCAM_CALIBRATION_FIRST_C": "C3"}).calibration
    keymap, error = calibrate_frame(far, hinted, previous=installed)
    assert keymap is not None and _numbering_right(keymap, scene, -3.4 * installed.white_key_width_px), error


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
    unit = Unit(config, source=open_configured(config.source))
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 40, "handle_signals": False})
    runner.start()
    try:
        assert wait_until(lambda: any(c["state"] == "drifted" for c in inbox.of("calibration")), 20)
        drifted = next(c for c in inbox.of("calibration") if c["state"] == "drifted")
        assert drifted["mean_error_key_widths"] > 0.25 and "white-key widths" in drifted["reason"]

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect(mosquitto.host, mosquitto.port)
        client.loop_start()
        client.publish("pianocam/drifty/cmd/recalibrate", json.dumps({"transaction": "r0", "fresh": "yes"}),
                       qos=1).wait_for_publish(5)
        assert wait_until(lambda: any(r.get("transaction") == "r0" for r in inbox.of("response")), 10)
        refused = next(r for r in inbox.of("response") if r.get("transaction") == "r0")
        assert not refused["ok"] and "fresh" in refused["error"]
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

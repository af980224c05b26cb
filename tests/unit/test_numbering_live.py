"""Live: an 88-key view with neither end in view is numbered from the notes, and the unit says so over MQTT."""
import json
import os
import subprocess
import sys

from pianocam.commands.watch import Watcher
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from tests.conftest import Inbox

UNIT = "numbering-unit"


def test_the_unit_numbers_a_view_without_ends_from_the_notes_and_publishes_how(mosquitto, tmp_path):
    # Framed to ~61 keys of an 88-key keyboard: neither end in view, no first_c hint, no key map on disk.
    folder = cached_scene(SceneSpec(seed=11, keys=88, seconds=12.0), tmp_path / "scenes")
    truth = json.loads((folder / "truth.json").read_text())
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=UNIT, on_message=inbox)
    assert watcher.start()
    env = {**os.environ, "PIANOCAM_UNIT_ID": UNIT, "PIANOCAM_MQTT_HOST": mosquitto.host,
           "PIANOCAM_MQTT_PORT": str(mosquitto.port), "PIANOCAM_SOURCE_KIND": "video",
           "PIANOCAM_SOURCE_URI": str(folder / "video.mp4"), "PIANOCAM_SOURCE_REALTIME": "false",
           "PIANOCAM_NOTES_KIND": "midi-file", "PIANOCAM_NOTES_PATH": str(folder / "performance.mid"),
           "PIANOCAM_CALIBRATION_KEYMAP": str(tmp_path / "keymap.json"),
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "journal.sqlite")}
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "run"], env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    expected = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
    notes = inbox.wait_for("note", len(expected))
    calibration = inbox.wait_for("calibration", 2)
    watcher.stop()

    # First a provisional map (keys located, octave unknown), then the numbering the notes decided.
    assert calibration[0]["numbering"] == "provisional", calibration[0]
    decided = [c for c in calibration if c.get("numbering") == "notes"]
    assert decided and 6 <= decided[0]["notes_used"] <= 24, calibration
    assert "numbered from the notes" in result.stderr
    # The names the notes gave are the keyboard's own: the map saved for the next start says so.
    saved = json.loads((tmp_path / "keymap.json").read_text())
    visible = [k["midi"] for k in truth["keys"] if k["visible"]]
    assert saved["numbered_by"] == "notes"
    assert min(visible) <= saved["keys"][0]["midi"] and saved["keys"][-1]["midi"] <= max(visible)
    assert [n["pitch"] for n in notes] == [n["pitch"] for n in expected]
    right = sum(n["hand"] == e["hand"] and n["finger"] == e["finger"] for n, e in zip(notes, expected))
    assert right / len(expected) >= 0.97, f"{right}/{len(expected)} right hand and finger"

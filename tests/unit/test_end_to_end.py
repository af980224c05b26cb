"""End to end: a rendered scene through `pianocam run` to a real Mosquitto, checked by a paho subscriber."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from pianocam.commands.watch import Watcher
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from tests.conftest import Inbox

UNIT = "e2e-unit"


@pytest.fixture(scope="module")
def scene_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


def test_rendered_scene_to_mosquitto(mosquitto, tmp_path, scene_cache):
    spec = SceneSpec(seed=7, keys=61, seconds=5.0)
    folder = cached_scene(spec, scene_cache / "scenes")
    truth = json.loads((folder / "truth.json").read_text())

    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=UNIT, on_message=inbox)
    assert watcher.start()
    env = {**os.environ, "XDG_CACHE_HOME": str(scene_cache.parent / "xdg"),
           "PIANOCAM_UNIT_ID": UNIT, "PIANOCAM_MQTT_HOST": mosquitto.host,
           "PIANOCAM_MQTT_PORT": str(mosquitto.port), "PIANOCAM_MQTT_PUBLISH_HANDS": "true",
           "PIANOCAM_SOURCE_KIND": "video", "PIANOCAM_SOURCE_URI": str(folder / "video.mp4"),
           "PIANOCAM_SOURCE_REALTIME": "false", "PIANOCAM_METRICS_INTERVAL": "1",
           "PIANOCAM_NOTES_KIND": "midi-file", "PIANOCAM_NOTES_PATH": str(folder / "performance.mid"),
           "PIANOCAM_CALIBRATION_KEYMAP": str(tmp_path / "keymap.json"),
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "journal.sqlite")}
    # As at installation: map the keys once from a frame where the hands leave both ends in view.
    calibrated = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "calibrate", "--source",
                                 str(folder / "video.mp4"), "--skip", "60", "--out", str(tmp_path / "keymap.json")],
                                capture_output=True, text=True, timeout=120)
    assert calibrated.returncode == 0, calibrated.stderr[-2000:]
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "run"], env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    statuses = inbox.wait_for("status", 2)
    hands_messages = inbox.wait_for("hands", len(truth["frames"]))
    metrics = inbox.wait_for("metrics", 1)
    notes = inbox.wait_for("note", len(truth["notes"]))
    calibration = inbox.wait_for("calibration", 1)
    sessions = inbox.wait_for("session", 1)
    watcher.stop()

    # Contract: schema, unit, timestamps, one seq order across every topic.
    everything = [p for _, p in inbox.messages]
    assert all(p["schema"] == 1 and p["unit_id"] == UNIT and p["ts"].endswith("Z") for p in everything)
    # seq is unique per unit and rises within each topic (topics travel separately: events
    # through the journal at QoS 1, debug hands directly at QoS 0).
    seqs = [p["seq"] for p in everything]
    assert len(set(seqs)) == len(seqs)
    for kind in ("hands", "note", "metrics", "session"):
        ordered = [p["seq"] for p in inbox.of(kind)]
        assert ordered == sorted(ordered), kind
    assert statuses[0]["state"] == "online" and statuses[-1]["state"] == "offline"
    assert any(s.get("source") == "online" for s in statuses)
    assert metrics[-1]["frames"] == len(truth["frames"]) and metrics[-1]["fps"] > 0
    assert "track" in metrics[-1]["latency_ms"]

    # Landmarks land on the rendered fingertips.
    assert len(hands_messages) == len(truth["frames"])
    errors, both = [], 0
    for message in hands_messages:
        frame_truth = truth["frames"][message["frame"]]["hands"]
        both += len(message["hands"]) == 2
        for hand in message["hands"]:
            tips = frame_truth.get(hand["side"], {}).get("fingertips")
            if tips is None:
                continue
            for finger, landmark in zip(range(1, 6), (4, 8, 12, 16, 20)):
                errors.append(np.hypot(*(np.array(hand["landmarks"][landmark]) - tips[str(finger)])))
    assert both / len(hands_messages) >= 0.9
    assert np.median(errors) < 6.0, f"median fingertip error {np.median(errors):.1f} px"

    # Every note played, in order, with the hand and finger the score says.
    assert calibration[-1]["state"] == "ok"
    expected = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
    assert [n["pitch"] for n in notes] == [n["pitch"] for n in expected]
    right = sum(n["hand"] == e["hand"] and n["finger"] == e["finger"] for n, e in zip(notes, expected))
    assert right / len(expected) >= 0.85, f"{right}/{len(expected)} fingers right"
    assert sessions[-1]["notes"] == len(expected)


def test_demo_prints_status_and_metrics(tmp_path):
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "demo", "--seconds", "6", "--json"],
                            env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(line) == {"topic", "payload"} for line in lines)
    assert any(m["topic"] == "pianocam/demo/status" and m["payload"]["state"] == "online" for m in lines)
    assert any(m["topic"] == "pianocam/demo/metrics" and m["payload"]["frames"] > 0 for m in lines)
    notes = [m["payload"] for m in lines if m["topic"] == "pianocam/demo/note"]
    assert notes and sum(n["finger"] is not None for n in notes) / len(notes) >= 0.8
    techniques = [m["payload"] for m in lines if m["topic"] == "pianocam/demo/technique"]
    assert {t["hand"] for t in techniques} == {"left", "right"}
    assert all(t["label"] in ("beginner", "advanced") and t["window"]["frames"] == 20 for t in techniques)


def test_offline_fingering_command(tmp_path, scene_cache):
    folder = cached_scene(SceneSpec(seed=7, keys=61, seconds=5.0), scene_cache / "scenes")
    truth = json.loads((folder / "truth.json").read_text())
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "fingering", "--video",
                             str(folder / "video.mp4"), "--midi", str(folder / "performance.mid"), "--json"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(line) == {"pitch", "name", "onset", "hand", "finger", "confidence", "source"} for line in lines)
    assert {line["source"] for line in lines} == {"midi-file"}
    assert "notes from the MIDI file" in result.stderr
    expected = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
    assert [line["pitch"] for line in lines] == [n["pitch"] for n in expected]
    right = sum(got["hand"] == e["hand"] and got["finger"] == e["finger"] for got, e in zip(lines, expected))
    assert right / len(expected) >= 0.9, f"{right}/{len(expected)}"

    missing = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "fingering", "--video",
                              str(tmp_path / "none.mp4"), "--midi", str(folder / "performance.mid")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "none.mp4" in missing.stderr

"""A practice session on the live unit: cmd/start_session with an exercise, verdicts on every note, report and
skill at the end, all through a real Mosquitto; MediaPipe on a rendered exercise played with known mistakes."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter

import paho.mqtt.client as mqtt
import pytest

from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.sources.video import VideoFileSource
from pianocam.unit.assembly import Unit
from tests.conftest import Inbox, wait_until

pytestmark = pytest.mark.slow
EXERCISE = "scales/c_major"
UNIT = "practice-live"


class ExerciseSource(VideoFileSource):
    """The rendered exercise looping in real time; its MIDI replays with it (the unit's scene note source)."""

    def __init__(self, folder):
        super().__init__(str(folder / "video.mp4"), realtime=True, loop=True)
        self.folder = folder

    def performance(self):
        return self.folder / "performance.mid"


def next_pass_end(inbox, truth, timeout):
    """Wait for the last notes of a time through the looping take, counting from now; True when they came."""
    last = max(n["onset"] for n in truth["notes"])
    period = len(truth["frames"]) / truth["fps"]
    start = len(inbox.of("note"))

    def ended():
        for n in inbox.of("note")[start:]:
            if n.get("onset") is not None:
                k = round((n["onset"] - last) / period)
                if k >= 0 and abs(n["onset"] - (last + k * period)) < 0.05:
                    return True
        return False
    return wait_until(ended, timeout)


def _command(client, name, body):
    client.publish(f"pianocam/{UNIT}/cmd/{name}", json.dumps(body), qos=1).wait_for_publish(5)


def test_practice_session_through_mosquitto(mosquitto, tmp_path):
    folder = tmp_path / "exercise"
    rendered = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "render", "--exercise", EXERCISE,
                               "--passage", "1", "--finger-changes", "3", "--wrong-notes", "1", "--seed", "3",
                               "--no-audio", "--out", str(folder)], capture_output=True, text=True, check=True)
    changes = json.loads(rendered.stdout)["changes"]
    truth = json.loads((folder / "truth.json").read_text())

    config = load_config(environ={})
    config.unit_id = UNIT
    config.mqtt.host, config.mqtt.port = mosquitto.host, mosquitto.port
    config.journal.path = str(tmp_path / "journal.sqlite")
    config.calibration.keymap = str(tmp_path / "keymap.json")
    config.source.loop = True
    config.technique.enabled = False
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=UNIT, on_message=inbox)
    assert watcher.start()
    unit = Unit(config, source=ExerciseSource(folder))
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 60, "handle_signals": False})
    runner.start()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()

    try:
        # Commands are heard once the unit is online (it subscribes on connecting).
        assert wait_until(lambda: any(s.get("state") == "online" for s in inbox.of("status")), 30)
        # A request the unit cannot follow is refused, and leaves the free session running.
        _command(client, "start_session", {"transaction": "bad", "exercise": "scales/h_major"})
        assert wait_until(lambda: any(r.get("transaction") == "bad" for r in inbox.of("response")), 15)
        refused = next(r for r in inbox.of("response") if r.get("transaction") == "bad")
        assert not refused["ok"] and "no exercise 'scales/h_major'" in refused["error"]

        # Start in the quiet between two times through, stop in the next one: one whole pass is practised.
        assert next_pass_end(inbox, truth, 40)
        _command(client, "start_session", {"transaction": "s", "exercise": EXERCISE, "passage": 1, "tempo": 60,
                                           "hands": "together"})
        assert wait_until(lambda: any(r.get("transaction") == "s" for r in inbox.of("response")), 5)
        started = next(r for r in inbox.of("response") if r.get("transaction") == "s")
        assert started["ok"] and started["session"]["practice"]["exercise"] == EXERCISE
        before = len(inbox.of("note"))
        assert next_pass_end(inbox, truth, 30)
        assert wait_until(lambda: any(s.get("practice", {}).get("played") == 58 for s in inbox.of("session")), 5)
        _command(client, "stop_session", {"transaction": "e"})
        assert wait_until(lambda: inbox.of("report") and inbox.of("skill"), 10)
    finally:
        client.loop_stop()
        unit.stop_event.set()
        runner.join(30)
        watcher.stop()

    notes = [n for n in inbox.of("note")[before:] if n.get("verdict")]
    assert len(notes) == 58 and all(n["expected"] is not None for n in notes)
    verdicts = Counter(n["verdict"] for n in notes)
    wrong_note = [c for c in changes if c["kind"] == "wrong_note"]
    assert [n["expected"]["index"] for n in notes if n["verdict"] == "wrong_note"] == [c["index"] for c in wrong_note]
    # Each verdict says what the unit decoded: wrong finger exactly where the finger it saw is not the written one.
    for n in notes:
        if n["verdict"] in ("right", "wrong_finger") and n["finger"] is not None:
            assert (n["verdict"] == "wrong_finger") == (n["finger"] != n["expected"]["finger"] or
                                                        n["hand"] != n["expected"]["hand"]), n
    # How often the live decoder reads the changed fingers is the fingering stage's accuracy, measured in
    # benchmarks/practice.py (live, all frames: 2 of the 3 changes seen, 2 written fingers misread; in real
    # time on a loaded CPU it drops frames and does worse); the offline test holds the exact list.
    flagged = {n["expected"]["index"] for n in notes if n["verdict"] == "wrong_finger"}
    changed = {c["index"] for c in changes if c["kind"] == "wrong_finger"}
    assert changed & flagged and len(flagged) <= 8
    assert verdicts["missed"] == 0 and verdicts["extra"] == 0
    report = inbox.of("report")[-1]
    assert report["exercise"] == EXERCISE and report["counts"]["wrong_note"] == 1
    assert report["fingering_as_written"] >= 0.8 and abs(report["tempo"]["bpm"] - 60) < 3
    skill = inbox.of("skill")[-1]
    assert skill["method"] == "rubric" and skill["rubric"] == report["skill"]["rubric"]
    assert 1 <= skill["score"] <= 10
    stopped = next(r for r in inbox.of("response") if r.get("transaction") == "e")
    assert stopped["ok"] and stopped["report"]["counts"] == report["counts"]

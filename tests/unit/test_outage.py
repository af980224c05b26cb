"""A broker outage and a killed daemon lose no note: journal, replay, de-duplication on seq."""
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import paho.mqtt.client as mqtt
import pytest

from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from tests.conftest import Mosquitto, wait_until

UNIT = "outage-unit"


class DurableSubscriber:
    """A subscriber with a persistent session, so the broker keeps its messages across a restart."""

    def __init__(self, broker, client_id):
        self.notes = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False)
        self.client.reconnect_delay_set(0.2, 1)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"pianocam/{UNIT}/note", qos=1)
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def _on_message(self, client, userdata, message):
        with self.lock:
            self.notes.append(json.loads(message.payload))

    def received(self):
        with self.lock:
            return list(self.notes)

    def stop(self):
        self.client.disconnect()
        self.client.loop_stop()


def deduplicated(notes):
    return sorted({n["seq"]: n for n in notes}.values(), key=lambda n: n["seq"])


@pytest.fixture(scope="module")
def long_scene(tmp_path_factory):
    spec = SceneSpec(seed=11, keys=61, seconds=60.0)
    folder = cached_scene(spec, tmp_path_factory.mktemp("cache"))
    return folder, json.loads((folder / "truth.json").read_text())


@pytest.fixture
def durable_broker(tmp_path):
    broker = Mosquitto(tmp_path, settings=f"allow_anonymous true\npersistence true\npersistence_location {tmp_path}/\n")
    # The settings above repeat persistence; mosquitto takes the last value.
    broker.conf.write_text(broker.conf.read_text().replace("persistence false\n", ""))
    yield broker.start()
    broker.stop()


def _daemon(folder, broker, tmp_path, **extra):
    env = {**os.environ, "PIANOCAM_UNIT_ID": UNIT, "PIANOCAM_MQTT_HOST": broker.host,
           "PIANOCAM_MQTT_PORT": str(broker.port), "PIANOCAM_SOURCE_KIND": "video",
           "PIANOCAM_SOURCE_URI": str(folder / "video.mp4"), "PIANOCAM_SOURCE_REALTIME": "false",
           "PIANOCAM_NOTES_KIND": "midi-file", "PIANOCAM_NOTES_PATH": str(folder / "performance.mid"),
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
           "PIANOCAM_CALIBRATION_KEYMAP": str(tmp_path / "keymap.json"), **extra}
    return subprocess.Popen([sys.executable, "-m", "pianocam.commands.cli", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)




def test_ten_second_broker_outage_loses_no_note(long_scene, durable_broker, tmp_path):
    folder, truth = long_scene
    expected = [n["pitch"] for n in sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))]
    subscriber = DurableSubscriber(durable_broker, "outage-watcher")
    daemon = _daemon(folder, durable_broker, tmp_path)
    try:
        assert wait_until(lambda: len(subscriber.received()) >= 20, 120), "no notes before the outage"
        durable_broker.stop()
        time.sleep(10)
        during = len(subscriber.received())
        durable_broker.start()
        assert daemon.wait(300) == 0, daemon.stderr.read()[-2000:]
        assert wait_until(lambda: len(deduplicated(subscriber.received())) >= len(expected), 60)
    finally:
        if daemon.poll() is None:
            daemon.kill()
        subscriber.stop()
    notes = deduplicated(subscriber.received())
    print(f"notes expected {len(expected)}, received {len(subscriber.received())} "
          f"({len(notes)} after de-duplication), {during} before the broker came back")
    assert [n["pitch"] for n in notes] == expected  # every note exactly once, in order
    assert during < len(expected)  # the outage really happened mid-performance


def test_sigkilled_daemon_delivers_its_journal_after_restart(long_scene, durable_broker, tmp_path):
    folder, truth = long_scene
    expected = [n["pitch"] for n in sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))]
    subscriber = DurableSubscriber(durable_broker, "kill-watcher")
    daemon = _daemon(folder, durable_broker, tmp_path)
    try:
        assert wait_until(lambda: len(subscriber.received()) >= 10, 120)
        durable_broker.stop()  # from here events pile up in the journal
        journal = sqlite3.connect(tmp_path / "journal.sqlite")
        assert wait_until(lambda: journal.execute("SELECT COUNT(*) FROM events WHERE topic LIKE '%/note'")
                          .fetchone()[0] >= 10, 60)
        journal.close()
        daemon.send_signal(signal.SIGKILL)
        daemon.wait(10)
        journal = sqlite3.connect(tmp_path / "journal.sqlite")
        assert journal.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        pending = [seq for (seq,) in journal.execute("SELECT seq FROM events WHERE topic LIKE '%/note' ORDER BY seq")]
        journal.close()
        before = deduplicated(subscriber.received())
        durable_broker.start()
        # The restarted unit plays no notes of its own: what arrives now comes from the journal.
        again = _daemon(folder, durable_broker, tmp_path, PIANOCAM_NOTES_KIND="none")
        assert wait_until(lambda: {n["seq"] for n in subscriber.received()} >= set(pending), 60)
        again.send_signal(signal.SIGTERM)
        assert again.wait(30) == 0
    finally:
        for process in (daemon, locals().get("again")):
            if process is not None and process.poll() is None:
                process.kill()
        subscriber.stop()
    notes = deduplicated(subscriber.received())
    print(f"{len(before)} notes delivered before the kill, {len(pending)} waiting in the journal, "
          f"{len(notes)} in all")
    assert [n["pitch"] for n in notes] == expected[:len(notes)]  # nothing lost, nothing reordered
    assert len(notes) == len(before) + len(set(pending) - {n["seq"] for n in before})

"""The publisher against a real Mosquitto: status and will, retained state, journal replay."""
import time

import paho.mqtt.client as mqtt

from pianocam.config import load_config
from pianocam.transport.journal import Journal
from pianocam.transport.messages import decode
from pianocam.commands.watch import Watcher
from pianocam.transport.publisher import Publisher

from tests.conftest import Inbox


def _config(broker_port, tmp_path, unit="test-unit"):
    config = load_config(environ={})
    config.unit_id = unit
    config.mqtt.host, config.mqtt.port = "127.0.0.1", broker_port
    config.journal.path = str(tmp_path / "journal.sqlite")
    return config


def test_status_online_then_offline_and_metrics_retained(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert inbox.wait_for("status", 1)[0]["state"] == "online"
    publisher.emit("metrics", {"fps": 30.0})
    assert inbox.wait_for("metrics", 1)[0]["fps"] == 30.0
    publisher.stop()
    states = [p["state"] for p in inbox.wait_for("status", 2)]
    assert states == ["online", "offline"]
    watcher.stop()

    # A late subscriber still finds the retained state.
    late = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=late)
    assert watcher.start()
    assert late.wait_for("metrics", 1) and late.wait_for("status", 1)[0]["state"] == "offline"
    watcher.stop()


def test_last_will_says_offline_when_the_unit_dies(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    config.mqtt.keepalive = 1
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert inbox.wait_for("status", 1)
    # Drop the socket without DISCONNECT, as a crash or a pulled cable would.
    publisher._client._sock.close()
    publisher._client.loop_stop()
    statuses = inbox.wait_for("status", 2, timeout=8)
    assert statuses[-1]["state"] == "offline"
    watcher.stop()


def test_events_wait_in_the_journal_while_the_broker_is_down(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    mosquitto.stop()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    seqs = [publisher.emit("note", {"pitch": 60 + i}) for i in range(20)]
    time.sleep(0.5)
    assert publisher.pending() == 20 and not publisher.connected

    inbox = Inbox()
    mosquitto.start()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    notes = inbox.wait_for("note", 20, timeout=40)  # paho's reconnect backoff is at most 30 s
    assert [n["seq"] for n in notes] == seqs
    assert [n["pitch"] for n in notes] == list(range(60, 80))
    publisher.stop()
    assert publisher.pending() == 0
    watcher.stop()


def test_a_restarted_unit_replays_what_was_not_acknowledged(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    mosquitto.stop()
    first = Publisher(config, Journal(config.journal_path()))
    first.start()
    seqs = [first.emit("note", {"pitch": 60 + i}) for i in range(5)]
    first._client.loop_stop()  # dies without delivering
    first.journal.close()

    mosquitto.start()
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    second = Publisher(config, Journal(config.journal_path()))
    second.start()
    later = second.emit("note", {"pitch": 99})
    notes = inbox.wait_for("note", 6)
    assert [n["seq"] for n in notes] == seqs + [later]
    second.stop()
    watcher.stop()


def test_bad_command_gets_an_error_response_not_a_crash(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.on_command("status", lambda name, request: {"frames": 7})
    publisher.start()
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    deadline = time.monotonic() + 5
    while not publisher.connected and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the command subscription is made in on_connect
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(mosquitto.host, mosquitto.port)
    client.loop_start()
    base = f"pianocam/{config.unit_id}/cmd/status"
    client.publish(base, b"not json", qos=1).wait_for_publish(5)
    client.publish(base, b'{"transaction": "t-2"}', qos=1).wait_for_publish(5)
    responses = inbox.wait_for("response", 2)
    assert responses[0]["ok"] is False and responses[0]["transaction"] is None
    assert responses[1] == {**responses[1], "ok": True, "transaction": "t-2", "frames": 7}
    client.loop_stop()
    publisher.stop()
    watcher.stop()


def test_retained_state_goes_out_once_per_connection(mosquitto, tmp_path):
    # CI caught one calibration message delivered twice with one seq: emitted just after connect,
    # then re-sent by the sender's after-connect re-publish of retained state.
    config = _config(mosquitto.port, tmp_path)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.emit("calibration", {"state": "ok"})  # before any connection: kept for the connect
    publisher.start()
    assert inbox.wait_for("calibration", 1)[0]["state"] == "ok"
    publisher.emit("calibration", {"state": "drifted"})
    assert inbox.wait_for("calibration", 2)[1]["state"] == "drifted"
    # The sender handles an after-connect re-publish late, as when on_connect raced an emit.
    publisher._republish.set()
    publisher._wake.set()
    time.sleep(1.0)
    publisher.stop()
    watcher.stop()
    seqs = [p["seq"] for topic, p in inbox.messages]
    assert len(seqs) == len(set(seqs)), seqs
    assert [p["state"] for p in inbox.wait_for("calibration", 2)] == ["ok", "drifted"]


def test_home_assistant_discovery_only_when_asked(mosquitto, tmp_path):
    seen = Inbox()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: seen(m.topic, decode(m.payload))
    client.connect(mosquitto.host, mosquitto.port)
    client.subscribe("homeassistant/#", qos=1)
    client.loop_start()
    for unit, enabled in (("quiet-unit", False), ("home-piano", True)):
        config = _config(mosquitto.port, tmp_path / unit, unit=unit)
        config.mqtt.home_assistant = enabled
        publisher = Publisher(config, Journal(config.journal_path()))
        publisher.emit("status", {"room": "living room"})
        publisher.start()
        assert publisher._connected.wait(10)
        time.sleep(1.0)
        publisher.stop()
    client.loop_stop()
    client.disconnect()
    topics = sorted(t for t, _ in seen.messages)
    assert all("home_piano" in t for t in topics) and len(topics) == 4, topics
    practice = dict(seen.messages)["homeassistant/sensor/pianocam_home_piano/practice/config"]
    assert practice["state_topic"] == "pianocam/home-piano/session"
    assert practice["availability_topic"] == "pianocam/home-piano/status"
    assert practice["device"]["suggested_area"] == "living room"

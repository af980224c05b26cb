"""The publisher against a real Mosquitto: status and will, retained state, journal replay, commands."""
import threading

import paho.mqtt.client as mqtt

from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.transport.journal import Journal
from pianocam.transport.messages import decode
from pianocam.transport.publisher import Publisher
from tests.conftest import Cable, Inbox, wait_until


def _config(broker_port, tmp_path, unit="test-unit"):
    config = load_config(environ={})
    config.unit_id = unit
    config.mqtt.host, config.mqtt.port = "127.0.0.1", broker_port
    config.journal.path = str(tmp_path / "journal.sqlite")
    return config


def sender(broker):
    """A plain MQTT client, as a teacher's dashboard or Home Assistant sends commands with."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def until_answered(publisher, inbox, client, timeout=10.0):
    """Send cmd/status probes until one is answered: the unit's command subscription then stands (a
    request sent before it would be lost to the broker, not refused by the unit)."""
    def answered():
        client.publish(publisher.topic("cmd/status"), b'{"transaction": "probe"}', qos=1).wait_for_publish(5)
        return wait_until(lambda: any(r.get("transaction") == "probe" for r in inbox.of("cmd/status/response")),
                          timeout=0.5)
    assert wait_until(answered, timeout), "the unit never answered cmd/status"


def answers(inbox, suffix="cmd/status/response"):
    """The responses on topics ending in suffix, the probes' left out."""
    return [r for r in inbox.of(suffix) if r.get("transaction") != "probe"]


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
    cable = Cable(mosquitto)
    config = _config(cable.port, tmp_path)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert inbox.wait_for("status", 1)
    cable.cut()  # the link gone without DISCONNECT, as a crash or a pulled cable would leave it
    statuses = inbox.wait_for("status", 2, timeout=8)
    assert [s["state"] for s in statuses] == ["online", "offline"]
    assert wait_until(lambda: publisher.mqtt.failed_attempts > 0) and not publisher.connected  # it stays cut
    publisher.stop(timeout=0.5)
    watcher.stop()


def test_events_wait_in_the_journal_while_the_broker_is_down(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    mosquitto.stop()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    seqs = [publisher.emit("note", {"pitch": 60 + i}) for i in range(20)]
    assert wait_until(lambda: "refused" in publisher.last_error)  # tried, and will try again
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
    first.disconnect_quietly()  # gone without delivering
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
    client = sender(mosquitto)
    until_answered(publisher, inbox, client)
    base = f"pianocam/{config.unit_id}/cmd/status"
    client.publish(base, b"not json", qos=1).wait_for_publish(5)
    client.publish(base, b'{"transaction": "t-2"}', qos=1).wait_for_publish(5)
    client.publish(f"pianocam/{config.unit_id}/cmd/tune_piano", b'{"transaction": "t-3"}', qos=1).wait_for_publish(5)
    assert wait_until(lambda: len(answers(inbox)) == 2)
    responses = answers(inbox)
    assert responses[0]["ok"] is False and "not JSON" in responses[0]["error"] and responses[0]["transaction"] is None
    assert responses[1] == {**responses[1], "ok": True, "transaction": "t-2", "frames": 7}
    unknown = inbox.wait_for("cmd/tune_piano/response", 1)
    assert unknown[0] == {**unknown[0], "ok": False, "transaction": "t-3",
                          "error": "unknown command 'tune_piano'; known: status"}
    client.loop_stop()
    publisher.stop()
    watcher.stop()


def test_retained_state_goes_out_once_per_connection(mosquitto, tmp_path):
    # CI caught one calibration message delivered twice with one seq: emitted just after connect,
    # then re-sent by the sender's after-connect re-publish of retained state.
    cable = Cable(mosquitto)
    config = _config(cable.port, tmp_path)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.emit("calibration", {"state": "ok"})  # before any connection: kept for the connect
    publisher.start()
    assert inbox.wait_for("calibration", 1)[0]["state"] == "ok"
    drifted = publisher.emit("calibration", {"state": "drifted"})
    assert inbox.wait_for("calibration", 2)[1]["state"] == "drifted"
    # A re-publish handled late, as when on_connect raced an emit, sends nothing twice.
    publisher.state.republish()
    note = publisher.emit("note", {"pitch": 60})  # journalled: out after anything re-published above
    assert wait_until(lambda: [n["seq"] for n in inbox.of("note")] == [note])
    seqs = [p["seq"] for topic, p in inbox.messages]
    assert len(seqs) == len(set(seqs)), seqs
    # A new connection (the link dropped and came back) gets the newest state once more.
    cable.drop()
    assert wait_until(lambda: [s["state"] for s in inbox.of("status")] == ["online", "offline", "online"])
    later = publisher.emit("note", {"pitch": 61})
    assert wait_until(lambda: [n["seq"] for n in inbox.of("note")] == [note, later])
    calibrations = inbox.of("calibration")
    assert [c["state"] for c in calibrations] == ["ok", "drifted", "drifted"] and calibrations[2]["seq"] == drifted
    publisher.stop()
    watcher.stop()


def test_home_assistant_discovery_only_when_asked(mosquitto, tmp_path):
    seen = Inbox()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda c, u, m: seen(m.topic, decode(m.payload))
    client.connect(mosquitto.host, mosquitto.port)
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.subscribe([("homeassistant/#", 1), ("pianocam/+/note", 1)])
    client.loop_start()
    assert subscribed.wait(5)
    for unit, enabled in (("quiet-unit", False), ("home-piano", True)):
        config = _config(mosquitto.port, tmp_path / unit, unit=unit)
        config.mqtt.home_assistant = enabled
        publisher = Publisher(config, Journal(config.journal_path()))
        publisher.emit("status", {"room": "living room"})
        seq = publisher.emit("note", {"pitch": 60})  # journalled: out after the announcement on connect
        publisher.start()
        assert wait_until(lambda: any(p["seq"] == seq for p in seen.of(f"{unit}/note")))
        publisher.stop()
    discovered = lambda: sorted(t for t, _ in seen.messages if t.startswith("homeassistant/"))  # noqa: E731
    assert wait_until(lambda: len(discovered()) >= 4), seen.messages
    client.loop_stop()
    client.disconnect()
    topics = discovered()
    assert all("home_piano" in t for t in topics) and len(topics) == 4, topics
    practice = dict(seen.messages)["homeassistant/sensor/pianocam_home_piano/practice/config"]
    assert practice["state_topic"] == "pianocam/home-piano/session"
    assert practice["availability_topic"] == "pianocam/home-piano/status"
    assert practice["device"]["suggested_area"] == "living room"

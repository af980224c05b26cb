"""What arrives over MQTT cannot stop the unit, and a broker it cannot reach is logged with its cause (real Mosquitto)."""
import json
import logging
import subprocess

import pytest

from pianocam.commands.watch import Watcher
from pianocam.config import ConfigError
from pianocam.transport import outbox
from pianocam.transport.journal import Journal
from pianocam.transport.publisher import Publisher
from tests.conftest import Cable, Inbox, wait_until
from tests.transport.test_publisher import _config, answers, sender, until_answered
from tests.unit.test_resilience import tls_broker  # noqa: F401 - the fixture

DEEP = b'{"transaction": ' + b"[" * 700 + b"]" * 700 + b"}"  # 1.4 KB: once a RecursionError in paho's thread


def send(c, topic, payload, retain=False):
    c.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)


def answers_and_delivers(publisher, inbox, c, transaction):
    """The unit still answers cmd/status (with its transaction) and delivers a note afterwards."""
    send(c, publisher.topic("cmd/status"), json.dumps({"transaction": transaction}).encode())
    assert wait_until(lambda: any(r.get("transaction") == transaction and r["ok"]
                                  for r in inbox.of("cmd/status/response")), timeout=10), inbox.of("cmd/status/response")
    seq = publisher.emit("note", {"pitch": 61})
    assert wait_until(lambda: any(n["seq"] == seq for n in inbox.of("note")), timeout=10)


def start_listening(publisher, inbox, c):
    """Start the publisher and wait until its command subscription stands."""
    publisher.start()
    until_answered(publisher, inbox, c)


def refusal(inbox):
    """The one refused request's response."""
    assert wait_until(lambda: [r for r in answers(inbox) if not r["ok"]]), inbox.of("cmd/status/response")
    return [r for r in answers(inbox) if not r["ok"]][0]


@pytest.fixture
def unit(mosquitto, tmp_path):
    """A unit (not started) linked to the broker through a cable the test can cut or stall."""
    cable = Cable(mosquitto)
    config = _config(cable.port, tmp_path)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.on_command("status", lambda name, request: {"frames": 1})
    c = sender(mosquitto)
    yield publisher, inbox, c, cable
    c.loop_stop()
    publisher.stop(timeout=1)
    watcher.stop()


def test_a_deeply_nested_command_does_not_silence_the_unit(unit):
    publisher, inbox, c, _ = unit
    start_listening(publisher, inbox, c)
    send(c, publisher.topic("cmd/status"), DEEP)
    refused = refusal(inbox)
    assert "deeper" in refused["error"] and refused["transaction"] is None
    answers_and_delivers(publisher, inbox, c, "after-deep")


@pytest.mark.parametrize("payload,error", [
    (json.dumps({"transaction": "x" * 5000}).encode(), "transaction"),
    (json.dumps({"transaction": [1, 2]}).encode(), "transaction"),
    (json.dumps({"transaction": {"a": 1}}).encode(), "transaction"),
    (b'{"pad": "' + b"x" * 20_000 + b'"}', "bytes"),
    (b"\xff\xfe\x00", "not JSON"),
])
def test_oversized_or_odd_transactions_are_refused_not_echoed(unit, payload, error):
    publisher, inbox, c, _ = unit
    start_listening(publisher, inbox, c)
    send(c, publisher.topic("cmd/status"), payload)
    refused = refusal(inbox)
    assert error in refused["error"] and refused["transaction"] is None
    assert len(json.dumps(refused)) < 1000
    answers_and_delivers(publisher, inbox, c, 17)


def test_a_retained_command_is_ignored_at_every_start(unit, caplog):
    publisher, inbox, c, _ = unit
    send(c, publisher.topic("cmd/status"), json.dumps({"transaction": "retained"}).encode(), retain=True)
    send(c, publisher.topic("cmd/status"), DEEP, retain=True)  # only the last retained one stays
    with caplog.at_level(logging.WARNING, logger="pianocam.transport.mqtt"):
        publisher.start()
        assert wait_until(lambda: "retained command" in caplog.text)  # the subscription stands
    answers_and_delivers(publisher, inbox, c, "live")
    assert all(r.get("transaction") != "retained" for r in inbox.of("cmd/status/response"))
    assert len(inbox.of("cmd/status/response")) == 1
    send(c, publisher.topic("cmd/status"), b"", retain=True)  # clear it


def test_an_exception_in_a_callback_is_logged_and_paho_carries_on(unit, caplog, monkeypatch):
    publisher, inbox, c, _ = unit
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    real = publisher.journal.acknowledge
    failures = []

    def acknowledge_fails_once(seq):
        if not failures:
            failures.append(seq)
            raise RecursionError("maximum recursion depth exceeded")  # what the deep payload once raised
        real(seq)

    monkeypatch.setattr(publisher.journal, "acknowledge", acknowledge_fails_once)
    with caplog.at_level(logging.ERROR, logger="pianocam.transport.mqtt"):
        publisher.emit("note", {"pitch": 60})
        assert wait_until(lambda: failures and "callback" in caplog.text)
    # paho's thread lives on: it still takes commands and acknowledgements.
    answers_and_delivers(publisher, inbox, c, "after-callback-error")


def test_the_watchdog_reports_a_sender_that_stopped(unit, caplog, monkeypatch):
    publisher, inbox, c, cable = unit
    monkeypatch.setattr(outbox, "STALL_SECONDS", 1.0)
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    assert publisher.check_health() == []
    cable.stall()  # nothing gets through, nothing says so: still "connected", no acknowledgement comes
    with caplog.at_level(logging.ERROR, logger="pianocam.transport.outbox"):
        for pitch in range(60, 65):
            publisher.emit("note", {"pitch": pitch})
        assert wait_until(lambda: publisher.check_health() == ["sender stalled"], timeout=8)
    assert "sender stalled" in caplog.text and publisher.connected and publisher.sender_stalled
    publisher.emit("metrics", {"fps": 1.0})
    cable.resume()  # the link comes back to life: the watchdog says so
    assert wait_until(lambda: publisher.check_health() == [] and not publisher.pending(), timeout=10)
    assert inbox.wait_for("metrics", 1)[-1]["sender_stalled"] is True
    assert wait_until(lambda: any("sender stalled" in s.get("conditions", []) for s in inbox.of("status")))
    assert wait_until(lambda: inbox.of("status")[-1]["conditions"] == [])


# --- the last will's seq ---

def test_the_last_will_is_kept_by_the_readmes_rule(unit):
    from pianocam.transport.messages import Deduplicator

    publisher, inbox, c, cable = unit
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    seqs = [publisher.emit("note", {"pitch": 60 + i}) for i in range(5)]
    assert wait_until(lambda: len(inbox.of("note")) == 5)
    cable.cut()  # a crash: no DISCONNECT, the broker sends the will
    assert wait_until(lambda: inbox.of("status") and inbox.of("status")[-1]["state"] == "offline", timeout=8)
    will = inbox.of("status")[-1]
    assert will["seq"] < seqs[-1]  # reserved at start: lower than the notes sent after it

    rule = Deduplicator()
    kept = [(t, p) for t, p in inbox.messages if rule.fresh(t, p)]
    assert [p["state"] for t, p in kept if t.endswith("/status")][-1] == "offline"
    assert [p["seq"] for t, p in kept if t.endswith("/note")] == seqs
    assert not rule.fresh(publisher.topic("note"), {"unit_id": publisher.unit_id, "seq": seqs[2]})  # replayed


# --- 10: TLS and connection failures, logged with their cause ---

@pytest.fixture
def other_ca(tmp_path):
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other-ca",
                    "-keyout", str(tmp_path / "other.key"), "-out", str(tmp_path / "other.crt")],
                   check=True, capture_output=True)
    return tmp_path / "other.crt"


def _fails_with(config, caplog, *words):
    publisher = Publisher(config, Journal(config.journal_path()))
    try:
        with caplog.at_level(logging.ERROR, logger="pianocam.transport.mqtt"):
            publisher.start()
            assert wait_until(lambda: all(w in caplog.text for w in words), timeout=8), caplog.text
            seen, tries = caplog.text.count("cannot connect"), publisher.mqtt.failed_attempts
            # paho retries (backoff 1 s, 2 s...); the same cause is not logged again
            assert wait_until(lambda: publisher.mqtt.failed_attempts >= tries + 2, timeout=8)
            assert caplog.text.count("cannot connect") == seen
        assert not publisher.connected
    finally:
        publisher.stop(timeout=0.5)
    return caplog.text


def test_a_wrong_ca_is_logged_with_its_cause(tls_broker, other_ca, tmp_path, caplog):  # noqa: F811
    config = _config(tls_broker.port, tmp_path)
    config.mqtt.tls, config.mqtt.ca_file = True, str(other_ca)
    _fails_with(config, caplog, "TLS certificate not accepted", "self-signed certificate")


def test_a_hostname_mismatch_is_logged_with_its_cause(tls_broker, tmp_path, caplog):  # noqa: F811
    config = _config(tls_broker.port, tmp_path)
    config.mqtt.host = "localhost"  # the certificate names 127.0.0.1 only
    config.mqtt.tls, config.mqtt.ca_file = True, str(tls_broker.ca)
    _fails_with(config, caplog, "certificate", "mismatch")


def test_plain_mqtt_to_a_tls_port_is_logged(tls_broker, tmp_path, caplog):  # noqa: F811
    config = _config(tls_broker.port, tmp_path)
    _fails_with(config, caplog, "cannot connect", "mqtt.tls")


def test_tls_to_a_plain_port_is_logged(mosquitto, tmp_path, caplog):
    config = _config(mosquitto.port, tmp_path)
    config.mqtt.tls = True
    _fails_with(config, caplog, "TLS listener")


def test_a_garbage_ca_file_is_a_config_error(tmp_path):
    garbage = tmp_path / "ca.crt"
    garbage.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    config = _config(1, tmp_path)
    config.mqtt.tls, config.mqtt.ca_file = True, str(garbage)
    with pytest.raises(ConfigError, match="mqtt.ca_file"):
        Publisher(config, Journal(config.journal_path()))

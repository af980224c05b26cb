"""The unit unattended: credentials and TLS, a stalled camera, systemd's notify protocol, SIGTERM."""
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.scene.source import open_configured
from pianocam.sources import FrameSource
from pianocam.transport.journal import Journal
from pianocam.transport.publisher import Publisher
from pianocam.unit.assembly import Unit
from tests.conftest import Inbox, Mosquitto, wait_until


def _config(port, tmp_path, **mqtt):
    config = load_config(environ={})
    config.unit_id = "resilient"
    config.mqtt.host, config.mqtt.port = "127.0.0.1", port
    config.journal.path = str(tmp_path / "journal.sqlite")
    for key, value in mqtt.items():
        setattr(config.mqtt, key, value)
    return config


@pytest.fixture
def password_broker(tmp_path):
    passwords = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "unit", "right-password"], check=True)
    broker = Mosquitto(tmp_path, settings=f"allow_anonymous false\npassword_file {passwords}\n").start()
    yield broker
    broker.stop()




def test_right_credentials_connect(password_broker, tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("right-password\n")
    config = load_config(environ={"PIANOCAM_MQTT_USERNAME": "unit", "PIANOCAM_MQTT_PASSWORD_FILE": str(secret),
                                  "PIANOCAM_MQTT_PORT": str(password_broker.port),
                                  "PIANOCAM_MQTT_HOST": "127.0.0.1",
                                  "PIANOCAM_JOURNAL_PATH": str(tmp_path / "j.sqlite")})
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    publisher.stop()


def test_wrong_credentials_retry_and_log_a_clear_error(password_broker, tmp_path, caplog):
    config = _config(password_broker.port, tmp_path, username="unit", password="wrong")
    publisher = Publisher(config, Journal(config.journal_path()))
    with caplog.at_level(logging.ERROR, logger="pianocam.transport.mqtt"):
        publisher.start()
        seq = publisher.emit("note", {"pitch": 60})
        assert wait_until(lambda: "refused" in caplog.text)
        assert wait_until(lambda: publisher.mqtt.failed_attempts >= 2)  # paho retries; the event waits
    assert not publisher.connected and publisher.pending() == 1
    assert "Not authorized" in caplog.text or "Bad user name or password" in caplog.text
    publisher.stop(timeout=0.5)
    assert [e.seq for e in Journal(config.journal_path()).pending()] == [seq]


@pytest.fixture
def tls_broker(tmp_path):
    def openssl(*args):
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=pianocam-test-ca",
            "-keyout", str(tmp_path / "ca.key"), "-out", str(tmp_path / "ca.crt"))
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1",
            "-keyout", str(tmp_path / "server.key"), "-out", str(tmp_path / "server.csr"))
    (tmp_path / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", str(tmp_path / "server.csr"), "-CA", str(tmp_path / "ca.crt"),
            "-CAkey", str(tmp_path / "ca.key"), "-CAcreateserial", "-days", "2",
            "-extfile", str(tmp_path / "san.cnf"), "-out", str(tmp_path / "server.crt"))
    broker = Mosquitto(tmp_path, settings=(f"allow_anonymous true\ncafile {tmp_path / 'ca.crt'}\n"
                                           f"certfile {tmp_path / 'server.crt'}\nkeyfile {tmp_path / 'server.key'}\n"))
    broker.ca = tmp_path / "ca.crt"
    yield broker.start()
    broker.stop()


def test_tls_with_the_schools_ca(tls_broker, tmp_path):
    config = _config(tls_broker.port, tmp_path, tls=True, ca_file=str(tls_broker.ca))
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert wait_until(lambda: publisher.connected)
    publisher.stop()


def test_tls_refuses_a_broker_it_cannot_verify(tls_broker, tmp_path):
    config = _config(tls_broker.port, tmp_path, tls=True, ca_file="")  # system store: self-signed CA unknown
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    assert wait_until(lambda: "certificate" in publisher.last_error)
    assert not publisher.connected
    publisher.stop(timeout=0.5)


class StallingCamera(FrameSource):
    """Stands in for a USB camera (absent here) that freezes after a second, as cheap ones do."""

    live = True

    def __init__(self):
        super().__init__("stalling-camera", fps=30, reopen_after=1.0)
        self.opened = 0
        self._since = 0.0

    def _open(self):
        self.opened += 1
        self._since = time.monotonic()

    def _grab(self):
        time.sleep(1 / 30)
        if self.opened == 1 and time.monotonic() - self._since > 1.0:
            return None  # stalled until reopened
        return np.zeros((120, 160, 3), np.uint8)


def test_a_stalled_camera_is_reopened_and_its_state_published(mosquitto, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    config.source.read_timeout = 0.5
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    camera = StallingCamera()
    unit = Unit(config, source=camera)
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 8, "handle_signals": False})
    runner.start()
    assert wait_until(lambda: any(s.get("source") == "offline" for s in inbox.of("status")), timeout=8)
    went_offline = time.monotonic()
    assert wait_until(lambda: [s.get("source") for s in inbox.of("status")][-1] == "online", timeout=8)
    assert time.monotonic() - went_offline < 5.0
    assert camera.opened == 2
    unit.stop_event.set()
    runner.join(10)
    watcher.stop()


def test_daemon_speaks_sd_notify_and_stops_cleanly_on_sigterm(mosquitto, tmp_path):
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(60)
    inbox = Inbox()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id="notified", on_message=inbox)
    assert watcher.start()
    env = {**os.environ, "NOTIFY_SOCKET": address, "WATCHDOG_USEC": "2000000", "PIANOCAM_UNIT_ID": "notified",
           "PIANOCAM_MQTT_HOST": mosquitto.host, "PIANOCAM_MQTT_PORT": str(mosquitto.port),
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "journal.sqlite"), "PIANOCAM_SOURCE_LOOP": "true",
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PIANOCAM_SOURCE_SCENE_SECONDS": "2"}
    daemon = subprocess.Popen([sys.executable, "-m", "pianocam.commands.cli", "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        messages = []
        while not any(m.startswith("WATCHDOG=1") for m in messages):
            messages.append(listener.recv(4096).decode())
        assert messages[0].startswith("READY=1")
        assert wait_until(lambda: inbox.of("status") and inbox.of("status")[-1].get("source") == "online")
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        while not any(m.startswith("STOPPING=1") for m in messages):
            messages.append(listener.recv(4096).decode())
        assert wait_until(lambda: inbox.of("status")[-1]["state"] == "offline")
    finally:
        if daemon.poll() is None:
            daemon.kill()
        watcher.stop()
        listener.close()


def test_a_refused_technique_model_stops_only_that_stage(tmp_path):
    import json as _json
    import shutil

    from pianocam.technique.estimator import DEFAULT_MODEL_DIR

    broken = tmp_path / "technique"
    shutil.copytree(DEFAULT_MODEL_DIR, broken)
    manifest = broken / "technique.int8.json"
    data = _json.loads(manifest.read_text())
    data["sha256"] = "0" * 64
    manifest.write_text(_json.dumps(data))
    config = _config(1, tmp_path)
    config.technique.model_dir = str(broken)
    unit = Unit(config, source=open_configured(config.source))
    try:
        assert unit.technique is None
        assert unit.technique_state.startswith("unavailable") and "sha256" in unit.technique_state
    finally:
        unit.tracker.close()
        unit.journal.close()

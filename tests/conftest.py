"""Shared fixtures: a real Mosquitto on a free loopback port, paths to the shared data."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pianocam.commands.broker import free_port  # noqa: F401 - the tests' one free port

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def wait_until(predicate, timeout: float = 10.0, step: float = 0.05) -> bool:
    """Poll predicate until it is true (True) or timeout seconds pass (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


def holds_for(predicate, seconds: float, step: float = 0.05) -> bool:
    """True if predicate stays true for the whole period: for what must not happen (a late duplicate), where
    there is no event to wait on."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not predicate():
            return False
        time.sleep(step)
    return predicate()


def port_closed(host: str, port: int) -> bool:
    """Nothing listens on host:port any more."""
    import socket

    try:
        socket.create_connection((host, port), timeout=0.2).close()
        return False
    except OSError:
        return True


class Inbox:
    """Collects (topic, payload) from a Watcher; thread-safe."""

    def __init__(self):
        self.messages = []
        self.lock = threading.Lock()

    def __call__(self, topic, payload):
        with self.lock:
            self.messages.append((topic, payload))

    def of(self, suffix):
        with self.lock:
            return [p for t, p in self.messages if t.endswith("/" + suffix)]

    def wait_for(self, suffix, count, timeout=10.0):
        """The messages on topics ending in /suffix once there are count of them (or at timeout)."""
        wait_until(lambda: len(self.of(suffix)) >= count, timeout)
        return self.of(suffix)



class Mosquitto:
    """A real mosquitto process with a config of its own; can be stopped and started again."""

    def __init__(self, workdir: Path, port: int | None = None, settings: str = "allow_anonymous true\n",
                 persistence: bool = False):
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.log = workdir / "mosquitto.log"
        self.conf = workdir / "mosquitto.conf"
        # As root, mosquitto drops to user "mosquitto", who cannot read pytest's private tmp dirs.
        user = "user root\n" if os.geteuid() == 0 else ""
        # persistence: queued messages and persistent sessions survive a restart (the recorder's tests).
        kept = f"persistence true\npersistence_location {workdir}/\n" if persistence else "persistence false\n"
        self.conf.write_text(f"{user}per_listener_settings false\nlistener {self.port} {self.host}\n{settings}"
                             f"{kept}log_dest file {self.log}\n")
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 10.0) -> "Mosquitto":
        self.proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited: {self.proc.stderr.read().decode()}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or (Path("/usr/sbin/mosquitto").exists() and "/usr/sbin/mosquitto") or None


@pytest.fixture(autouse=True)
def private_state(tmp_path_factory, monkeypatch):
    """Every test (and the daemons it starts) keeps journal and key map out of the user's state dir."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path_factory.mktemp("state")))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)


@pytest.fixture
def mosquitto(tmp_path):
    if not _mosquitto_binary():
        pytest.fail("mosquitto is not installed: the test command installs it (apt-get install mosquitto)")
    broker = Mosquitto(tmp_path).start()
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = SHARED / "data"
    if not path.is_dir():
        pytest.skip(f"real data not here: ../shared/data not found at {path}")
    return path

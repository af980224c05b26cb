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


class Cable:
    """A TCP relay between a unit and the broker that a test can pull (cut), jiggle (drop) or let go dead (stall).

    The unit connects to cable.port; the broker sees each cut as a connection lost without DISCONNECT."""

    def __init__(self, broker):
        self.host, self.upstream = "127.0.0.1", (broker.host, broker.port)
        self._listener = socket.create_server((self.host, 0))
        self.port = self._listener.getsockname()[1]
        self._flowing = threading.Event()
        self._flowing.set()
        self._cut = threading.Event()
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                unit, _ = self._listener.accept()
            except OSError:  # cut: no more connections
                return
            if self._cut.is_set():  # accepted as the cable was pulled
                self._close(unit)
                return
            broker = socket.create_connection(self.upstream)
            with self._lock:
                self._sockets += [unit, broker]
            for a, b in ((unit, broker), (broker, unit)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source, sink):
        try:
            while data := source.recv(65536):
                self._flowing.wait()
                sink.sendall(data)
        except OSError:
            pass
        self._close(source, sink)

    def _close(self, *sockets):
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def drop(self):
        """Close the connections open now; new ones get through (Wi-Fi that comes back)."""
        with self._lock:
            sockets, self._sockets = self._sockets, []
        self._close(*sockets)

    def cut(self):
        """Close everything and refuse new connections: the cable pulled, or the unit's power."""
        self._cut.set()
        try:
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() under way; close() alone does not
        except OSError:
            pass
        self._listener.close()
        self.drop()

    def stall(self):
        """Hold every byte from now on, connections left open: a link gone dead without a word."""
        self._flowing.clear()

    def resume(self):
        self._flowing.set()


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

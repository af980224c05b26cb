"""The recorder's fixtures: the school's broker, a PostgreSQL cluster per test session, a database URL per test."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Mosquitto, _mosquitto_binary, free_port
from tests.recorder.postgres import PostgresCluster, pg_bin

# The school's broker as systemd/mosquitto-school.conf sets it up: sessions survive a restart, no queue cap.
SYSTEMD = Path(__file__).resolve().parents[2] / "systemd"
BROKER_SETTINGS = "allow_anonymous true\n" + (SYSTEMD / "mosquitto-school.conf").read_text()


# Servers a test started (recorders, extra brokers): stopped after it even when it fails midway.
STARTED: list = []


@pytest.fixture(autouse=True)
def stop_what_was_started():
    yield
    while STARTED:
        STARTED.pop().stop()


@pytest.fixture(scope="session")
def postgres():
    if not pg_bin("initdb"):
        pytest.fail("PostgreSQL is not installed: the test command installs it (apt-get install postgresql)")
    cluster = PostgresCluster(free_port()).start()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request, tmp_path):
    """A fresh database URL: a SQLite file, then a database on the test session's PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recorder.sqlite'}"
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture
def broker(tmp_path):
    """A real Mosquitto configured as the school's."""
    if not _mosquitto_binary():
        pytest.fail("mosquitto is not installed: the test command installs it (apt-get install mosquitto)")
    b = Mosquitto(tmp_path, settings=BROKER_SETTINGS, persistence=True).start()
    yield b
    b.stop()

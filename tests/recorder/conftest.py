"""The recorder's fixtures: a PostgreSQL cluster per test session, a database URL per test (both kinds)."""
from __future__ import annotations

import pytest

from ..conftest import free_port
from .postgres import PostgresCluster, pg_bin


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

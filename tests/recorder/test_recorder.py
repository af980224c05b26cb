"""The recorder against a real Mosquitto and both databases: one row per event through outages,
a killed recorder and a replayed journal; duplicates, stale state and bad messages."""
from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import select

from pianocam.config import load_config
from pianocam.recorder.schema import Note
from pianocam.recorder.schema import Session as SessionRow
from pianocam.recorder.store import Store, open_engine
from pianocam.transport.journal import Journal
from pianocam.transport.messages import envelope
from pianocam.transport.publisher import Publisher
from pianocam.unit.session import Session
from tests.conftest import Mosquitto, holds_for, wait_until
from tests.recorder.conftest import STARTED

CLI = [sys.executable, "-m", "pianocam.commands.cli", "recorder"]


class RecorderProcess:
    """`pianocam recorder` as the school's server runs it; its log is kept to wait on."""

    def __init__(self, broker: Mosquitto, database: str, client_id: str = "recorder-test", group: str | None = None):
        self.argv = [*CLI, "--broker", f"{broker.host}:{broker.port}", "--database", database, "--listen", "off",
                     "--client-id", client_id, *(["--group", group] if group else [])]
        self.log: list[str] = []
        self.proc: subprocess.Popen | None = None

    def start(self) -> "RecorderProcess":
        if self not in STARTED:
            STARTED.append(self)
        mark = len(self.log)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        threading.Thread(target=lambda: self.log.extend(self.proc.stderr), daemon=True).start()
        assert wait_until(lambda: any("subscribed" in line for line in self.log[mark:]), 20), "".join(self.log)
        return self

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)


def stats(database: str) -> dict:
    out = subprocess.run([*CLI, "stats", "--database", database, "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def unit_publisher(broker: Mosquitto, tmp_path, unit: str, journal_path=None, client_id=None) -> Publisher:
    config = load_config(environ={})
    config.unit_id = unit
    config.mqtt.host, config.mqtt.port = broker.host, broker.port
    publisher = Publisher(config, Journal(journal_path or tmp_path / f"{unit}.sqlite"), client_id=client_id)
    publisher.start()
    return publisher


def note(i: int) -> dict:
    return {"pitch": 48 + i % 24, "name": "x", "onset": i * 0.1, "offset": None, "velocity": 70,
            "hand": "right", "finger": 1 + i % 5, "confidence": 0.9, "source": "midi"}


def test_one_row_per_event_through_outage_restart_and_replay(broker, database, tmp_path):
    recorder = RecorderProcess(broker, database).start()
    units = {name: unit_publisher(broker, tmp_path, name) for name in ("room-1", "room-2", "room-3")}
    emitted: dict[str, list[int]] = {name: [] for name in units}

    def play(count: int) -> None:
        for i in range(count):
            for name, publisher in units.items():
                emitted[name].append(publisher.emit("note", note(i)))
            time.sleep(0.002)

    session = Session(student="Ana")
    units["room-1"].emit("session", session.summary())
    play(50)

    # The broker goes away: events wait in the units' journals. One journal is copied as it stands, to be
    # replayed later as a unit would that crashed before the acknowledgements reached its disk.
    broker.stop()
    play(50)
    assert wait_until(lambda: units["room-2"].pending() >= 50, 5)
    copy = tmp_path / "room-2-copy.sqlite"
    with sqlite3.connect(tmp_path / "room-2.sqlite") as source, sqlite3.connect(copy) as target:
        source.backup(target)
    broker.start()
    play(50)

    # The recorder dies mid-stream without a goodbye; the broker keeps its session's queue meanwhile.
    recorder.kill()
    play(100)
    recorder.start()
    play(50)
    for publisher in units.values():
        publisher.stop(timeout=60)
        assert publisher.pending() == 0
    replay = unit_publisher(broker, tmp_path, "room-2", journal_path=copy, client_id="room-2-replay")
    assert wait_until(lambda: replay.pending() == 0, 60)
    assert replay.acknowledged >= 50  # the copied backlog did go out a second time
    replay.stop()

    total = sum(len(seqs) for seqs in emitted.values())
    assert total == 3 * 300
    assert wait_until(lambda: stats(database)["notes"] >= total, 90), stats(database)
    expected = {"units": 3, "sessions": 1, "notes": total, "events": 0}
    assert holds_for(lambda: stats(database) == expected, 1.0), stats(database)  # nothing late in flight
    recorder.stop()

    engine = open_engine(database)
    with engine.connect() as conn:
        stored = conn.execute(select(Note.unit_id, Note.seq)).all()
        assert conn.scalar(select(SessionRow.student)) == "Ana"
    assert sorted(stored) == sorted((name, seq) for name, seqs in emitted.items() for seq in seqs)
    engine.dispose()


def test_two_recorders_share_the_load_and_store_each_event_once(broker, database, tmp_path):
    first = RecorderProcess(broker, database, client_id="recorder-a", group="school").start()
    second = RecorderProcess(broker, database, client_id="recorder-b", group="school").start()
    publisher = unit_publisher(broker, tmp_path, "room-9")
    seqs = [publisher.emit("note", note(i)) for i in range(300)]
    assert wait_until(lambda: stats(database)["notes"] >= len(seqs), 60)
    # One fails and comes back (systemd restarts it). Mosquitto 2.0 keeps queueing the absent member's
    # share on its persistent session meanwhile (systemd/README.md), so it is stored on its return.
    second.kill()
    seqs += [publisher.emit("note", note(i)) for i in range(300)]
    time.sleep(1.0)
    second.start()
    publisher.stop(timeout=30)
    assert wait_until(lambda: stats(database)["notes"] >= len(seqs), 60), stats(database)
    first.stop()
    second.stop()
    assert stats(database)["notes"] == len(seqs)
    stored = [int(line.split("received, ")[1].split()[0]) for r in (first, second) for line in r.log
              if "messages received" in line]
    assert len(stored) == 2 and all(n > 0 for n in stored), stored  # both took a share


def test_a_standby_recorder_stores_everything_while_the_other_is_down(broker, database, tmp_path):
    """Failover with Mosquitto: two recorders without a group, each its own session, one database."""
    first = RecorderProcess(broker, database, client_id="recorder-a").start()
    second = RecorderProcess(broker, database, client_id="recorder-b").start()
    publisher = unit_publisher(broker, tmp_path, "room-9")
    seqs = [publisher.emit("note", note(i)) for i in range(200)]
    first.kill()
    seqs += [publisher.emit("note", note(i)) for i in range(200)]
    assert wait_until(lambda: stats(database)["notes"] >= len(seqs), 60), stats(database)
    first.start()  # it catches up on its own queue: every row is there already
    publisher.stop(timeout=30)
    assert holds_for(lambda: stats(database)["notes"] == len(seqs), 2.0), stats(database)  # no late duplicate
    first.stop()
    second.stop()
    assert stats(database)["notes"] == len(seqs)


def test_store_keeps_the_newest_session_summary_and_refuses_bad_messages(database):
    store = Store(open_engine(database))
    started = "2026-09-14T15:00:00.000Z"
    newer = envelope("room-1", 20, {"started": started, "notes": 40, "active": False, "student": "Ben"})
    older = envelope("room-1", 10, {"started": started, "notes": 12, "active": True})
    tally = store.record([("pianocam/room-1/session", newer), ("pianocam/room-1/session", older),
                          ("pianocam/room-1/note", {"seq": 3}),  # no ts
                          ("pianocam/room-1/note", envelope("room-2", 4, {"pitch": 60})),  # another unit's
                          ("pianocam/room-1/note", envelope("room-1", 5, {"pitch": "C4"})),
                          ("pianocam/room-1/technique", envelope("room-1", 6, {"hand": "left", "label": "x"}))])
    assert tally.rejected == 3 and tally.stored == 1
    with store.engine.connect() as conn:
        row = conn.execute(select(SessionRow)).mappings().one()
    assert (row["notes"], row["active"], row["student"], row["seq"]) == (40, False, "Ben", 20)
    assert store.stats() == {"units": 1, "sessions": 1, "notes": 0, "events": 1}
    store.engine.dispose()


def test_schema_made_by_the_migrations_is_the_models(database):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from pianocam.recorder.schema import Base

    engine = open_engine(database)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


@pytest.mark.parametrize("url, says", [("mysql://x@y/z", "only sqlite"), ("/nonexistent/dir/r.sqlite", "does not exist")])
def test_bad_database_is_one_line_and_exit_2(url, says):
    done = subprocess.run([*CLI, "stats", "--database", url, "--json"], capture_output=True, text=True)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_unreachable_postgresql_is_one_line_and_exit_2():
    from tests.conftest import free_port

    done = subprocess.run([*CLI, "stats", "--database", f"postgresql://nobody@127.0.0.1:{free_port()}/x"],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "OperationalError" in done.stderr and "Traceback" not in done.stderr


def test_teacher_password_is_hashed_and_a_student_can_be_forgotten(tmp_path):
    from pwdlib import PasswordHash

    from tests.recorder.term import make_term

    database = f"sqlite:///{tmp_path / 'school.sqlite'}"
    short = subprocess.run([*CLI, "teacher", "ms-lee", "--database", database], input="short\n",
                           capture_output=True, text=True)
    assert short.returncode == 2 and "8 characters" in short.stderr
    subprocess.run([*CLI, "teacher", "ms-lee", "--database", database], input="correct horse\n", text=True, check=True)
    store = Store(open_engine(database))
    stored = store.teacher_hash("ms-lee")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert PasswordHash.recommended().verify("correct horse", stored)

    term = make_term()
    store.record(term.messages)
    before = stats(database)
    ana = [s for s in term.sessions if s.student == "Ana"]
    done = subprocess.run([*CLI, "forget", "--student", "Ana", "--database", database], capture_output=True,
                          text=True, check=True)
    removed = json.loads(done.stdout)
    assert removed["sessions"] == len(ana) and removed["notes"] == sum(s.notes for s in ana)
    assert removed["events"] == len(ana)  # each session's report
    after = stats(database)
    assert after["sessions"] == before["sessions"] - len(ana) and after["notes"] == before["notes"] - removed["notes"]
    with store.engine.connect() as conn:
        assert "Ana" not in {row[0] for row in conn.execute(select(SessionRow.student))}
    store.engine.dispose()


def test_config_file_names_the_database_and_refuses_unknown_keys(tmp_path):
    database = tmp_path / "from-config.sqlite"
    good = tmp_path / "recorder.toml"
    good.write_text(f'[recorder]\ndatabase = "sqlite:///{database}"\n')
    done = subprocess.run([*CLI, "stats", "--config", str(good), "--json"], capture_output=True, text=True)
    assert done.returncode == 0 and json.loads(done.stdout)["notes"] == 0 and database.exists()
    bad = tmp_path / "bad.toml"
    bad.write_text('[recorder]\ndatabse = "x.sqlite"\n')
    done = subprocess.run([*CLI, "stats", "--config", str(bad)], capture_output=True, text=True)
    assert done.returncode == 2 and "recorder.databse" in done.stderr and len(done.stderr.splitlines()) == 1

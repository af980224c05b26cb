"""A full disk under the journal (a real 4 MB tmpfs): the unit keeps running, keeps the newest events, counts the rest."""
import errno
import os
import subprocess
import sys
import uuid

import pytest

from pianocam.commands.watch import Watcher
from pianocam.transport.journal import Entry, Journal
from pianocam.transport.publisher import Publisher
from tests.conftest import Inbox, wait_until
from tests.transport.test_publisher import _config

PAYLOAD = b'{"pitch":60,"name":"C4","pad":"' + b"x" * 1400 + b'"}'


@pytest.fixture
def small_fs(tmp_path):
    """A 4 MB filesystem of its own, as a nearly full SD card would be."""
    if os.geteuid() != 0:
        pytest.skip("mounting a 4 MB tmpfs needs root")
    where = tmp_path / "small"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where)], check=True)
    yield where
    subprocess.run(["umount", "-l", str(where)], check=True)


def fill(folder):
    """Write filler files until the filesystem refuses another byte."""
    for chunk in (4096, 1):
        try:
            with open(folder / f"filler-{uuid.uuid4().hex[:6]}", "wb") as fh:
                while True:
                    fh.write(b"\0" * chunk)
                    fh.flush()
        except OSError as err:
            assert err.errno == errno.ENOSPC


def append(journal, count):
    seqs = []
    for _ in range(count):
        seqs.append(journal.next_seq())
        journal.append(Entry(seqs[-1], "pianocam/u/note", PAYLOAD, 1, False))
    return seqs


def test_a_full_disk_drops_the_oldest_counts_them_and_never_raises(small_fs):
    journal = Journal(small_fs / "journal.sqlite", max_events=100_000, max_bytes=64 << 20)
    seqs = append(journal, 4000)  # ~6 MB of events on a 4 MB filesystem
    kept = [e.seq for e in journal.pending(limit=10_000)]
    assert journal.disk_full and journal.dropped > 0
    assert len(kept) + journal.dropped == len(seqs)
    assert kept == seqs[-len(kept):]  # the newest events are the ones kept
    journal.close()


def test_the_journal_opens_and_reserves_seqs_on_a_full_disk(small_fs):
    path = small_fs / "journal.sqlite"
    journal = Journal(path)
    seqs = append(journal, 500)
    journal.close()
    fill(small_fs)
    reopened = Journal(path)  # before: OperationalError in next_seq, a restart loop under systemd
    fresh = append(reopened, 50)
    assert fresh[0] > seqs[-1] and fresh == sorted(fresh)
    pending = [e.seq for e in reopened.pending(limit=10_000)]
    assert pending[-1] == fresh[-1] and len(pending) + reopened.dropped == 550
    reopened.close()


def test_the_journal_is_bounded_in_bytes(tmp_path):
    path = tmp_path / "journal.sqlite"
    journal = Journal(path, max_bytes=1 << 20)
    seqs = append(journal, 3000)  # ~4.5 MB of events
    on_disk = sum(p.stat().st_size for p in tmp_path.glob("journal.sqlite*"))
    assert on_disk < 2 << 20, on_disk
    kept = [e.seq for e in journal.pending(limit=10_000)]
    assert kept == seqs[-len(kept):] and len(kept) + journal.dropped == 3000 and journal.dropped > 1000
    assert not journal.disk_full
    journal.close()


def test_the_publisher_says_disk_full_and_delivers_the_newest(mosquitto, small_fs, tmp_path):
    config = _config(mosquitto.port, tmp_path)
    config.journal.path = str(small_fs / "journal.sqlite")
    mosquitto.stop()
    publisher = Publisher(config, Journal(config.journal_path()))
    publisher.start()
    seqs = [publisher.emit("note", {"pitch": 60, "pad": "x" * 1400}) for _ in range(4000)]
    assert publisher.journal.disk_full and publisher.check_health() == ["disk full"]
    inbox = Inbox()
    mosquitto.start()
    watcher = Watcher(mosquitto.host, mosquitto.port, unit_id=config.unit_id, on_message=inbox)
    assert watcher.start()
    assert wait_until(lambda: publisher.pending() == 0, timeout=60)
    publisher.emit("metrics", {"fps": 1.0})
    metrics = inbox.wait_for("metrics", 1)[-1]
    delivered = {n["seq"] for n in inbox.of("note")}
    assert metrics["disk_full"] is True
    assert len(delivered) + publisher.journal.dropped == len(seqs)
    assert max(delivered) == seqs[-1]
    assert "disk full" in inbox.wait_for("status", 1)[-1]["conditions"]
    publisher.stop()
    watcher.stop()


def test_the_daemon_starts_and_runs_on_a_full_disk(small_fs, tmp_path):
    path = small_fs / "journal.sqlite"
    journal = Journal(path)
    append(journal, 300)
    journal.close()
    fill(small_fs)
    env = {**os.environ, "PIANOCAM_JOURNAL_PATH": str(path), "PIANOCAM_MQTT_PORT": "1",
           "PIANOCAM_MQTT_HOST": "127.0.0.1", "PIANOCAM_SOURCE_SCENE_SECONDS": "2",
           "PIANOCAM_CALIBRATION_KEYMAP": str(tmp_path / "keymap.json"),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "PIANOCAM_TECHNIQUE_ENABLED": "false"}
    run = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "run", "--seconds", "4"], env=env,
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert "disk full" in run.stderr or "disk is full" in run.stderr

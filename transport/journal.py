"""SQLite store-and-forward journal: events wait here until the broker acknowledges them."""
from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# Sequence numbers are reserved in blocks so that messages which are never journalled
# (metrics, debug hands) cost no disk write each, yet seq stays monotonic across restarts.
_SEQ_BLOCK = 1000
# A small WAL (SQLite's default checkpoints at 4 MB): the journal's bytes are mostly the events.
_WAL_PAGES = 32
# Ballast beside the journal, given up when the disk fills so SQLite has room to delete the oldest
# events (a delete needs a little space too) and to start on a full disk.
_BALLAST_BYTES = 128 * 1024
# Below this much free space on its filesystem the journal file stops growing (new events go into
# pages its oldest leave): a WAL whose pages lie past the file's end cannot be checkpointed on a
# disk with no room at all, and the WAL itself needs up to ~2 x _WAL_PAGES pages.
_FLOOR = 256 * 1024


def _disk_full(err: sqlite3.Error) -> bool:
    """SQLITE_FULL, or the I/O error some filesystems give instead when a write finds no room."""
    return isinstance(err, sqlite3.OperationalError) and getattr(err, "sqlite_errorcode", 0) & 0xFF in (10, 13)


@dataclass(frozen=True)
class Entry:
    seq: int
    topic: str
    payload: bytes
    qos: int
    retained: bool


class Journal:
    """Durable, ordered, bounded backlog of outgoing events, and the unit's seq counter."""

    def __init__(self, path: str | Path, max_events: int = 100_000, max_age: float = 0.0,
                 max_bytes: int = 64 << 20):
        self.path = Path(path)
        self.max_events = max_events
        self.max_age = max_age  # seconds; 0 keeps events until max_events pushes them out
        self.max_bytes = max_bytes  # events' pages in the file (the WAL adds at most ~_WAL_PAGES pages)
        self.dropped = 0
        self.in_flight_upto = 0  # events up to this seq are in the MQTT client's hands (set by claim)
        self.disk_full = False  # the last write found no room (cleared by the next that does)
        self._expired_at = 0.0
        self._sized_at = 0
        self._full_logged_at = 0.0
        self._unsaved_reservation = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._ballast = self.path.with_name(self.path.name + ".ballast")
        self._lock = threading.Lock()
        try:
            self._open()
        except sqlite3.OperationalError as err:
            if not _disk_full(err):
                raise
            self._note_full(err, "opening")
            self._ballast.unlink(missing_ok=True)  # the room kept for this
            self._open()
        if not self.disk_full:
            self._keep_ballast()
        self._warned_at = 0.0
        with self._lock:
            self._guard(self._expire)

    def _open(self) -> None:
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only a power cut may lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(f"PRAGMA wal_autocheckpoint={_WAL_PAGES}")
        self._db.execute(f"PRAGMA journal_size_limit={_WAL_PAGES * 4096}")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL,"
            " payload BLOB NOT NULL, qos INTEGER NOT NULL, retained INTEGER NOT NULL, created REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS events_created ON events (created)")  # the age bound's scan
        self._page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        row = self._db.execute("SELECT value FROM meta WHERE key='seq_reserved'").fetchone()
        top = self._db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
        self._next_seq = max(row[0] if row else 0, top) + 1
        self._reserved = self._next_seq - 1
        self._count = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]

    def _keep_ballast(self) -> None:
        if self._ballast.exists():
            return
        try:
            with open(self._ballast, "wb") as fh:
                fh.write(b"\0" * _BALLAST_BYTES)
        except OSError:
            self._ballast.unlink(missing_ok=True)  # no room yet; tried again once the disk has some

    def _note_full(self, err: BaseException, doing: str) -> None:
        self.disk_full = True
        if time.monotonic() - self._full_logged_at > 60 or not self._full_logged_at:
            self._full_logged_at = time.monotonic()
            logger.error("journal %s: disk full while %s (%s): keeping the newest events that fit, "
                         "%d dropped so far", self.path, doing, err, self.dropped)

    def _drop_oldest(self, count: int) -> int:
        """Delete the oldest events not yet handed to the client, counted as dropped; if that is not
        enough, the oldest handed over too: paho still holds and re-sends those (this process only),
        so they are not lost, and not counted."""
        gone = self._db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq > ?"
                                " ORDER BY seq LIMIT ?)", (self.in_flight_upto, count)).rowcount
        self.dropped += gone
        if gone < count:
            gone += self._db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)",
                                     (count - gone,)).rowcount
        self._count -= gone
        return gone

    def _guard(self, write, doing: str = "writing"):
        """Run a write (lock held); on a full disk give up the ballast, drop the oldest events
        until it fits, and say so. False when it cannot be done even then."""
        try:
            write()
            return True
        except sqlite3.OperationalError as err:
            if not _disk_full(err):
                raise
            self._note_full(err, doing)
        self._ballast.unlink(missing_ok=True)
        for attempt in range(12):
            try:
                self._db.execute("PRAGMA wal_checkpoint(RESTART)")
                self._make_room(4 << attempt)
                write()
                return True
            except sqlite3.OperationalError as err:
                if not _disk_full(err):
                    raise
                if not self._count:
                    break
        return False

    def next_seq(self) -> int:
        """The next per-unit sequence number; never repeats, even after a crash."""
        with self._lock:
            if self._next_seq > self._reserved or (self._unsaved_reservation and self._next_seq % 100 == 0):
                reserved = max(self._reserved, self._next_seq + _SEQ_BLOCK - 1)

                def reserve():
                    # A reservation must survive a power cut (NORMAL may lose the last commits): a
                    # re-used seq would make subscribers drop new events as duplicates. Once per block.
                    self._db.execute("PRAGMA synchronous=FULL")
                    try:
                        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('seq_reserved', ?)", (reserved,))
                    finally:
                        self._db.execute("PRAGMA synchronous=NORMAL")

                # With no room even after dropping every event, seqs go on in memory (a crash then
                # could repeat some) and the reservation is written again as soon as there is room.
                self._unsaved_reservation = not self._guard(reserve, "reserving sequence numbers")
                self._reserved = reserved
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def append(self, entry: Entry) -> None:
        """Store an event durably before it is sent; drop the oldest beyond the bound."""
        def insert():
            self._db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                             (entry.seq, entry.topic, entry.payload, entry.qos, int(entry.retained), time.time()))

        with self._lock:
            free = self._free_bytes()
            if free < _FLOOR:
                if not self.disk_full:
                    self._note_full(OSError(f"{free // 1024} KB free on its filesystem"), "growing")
                self._guard(lambda: self._room_for(len(entry.payload)), "making room")
            elif self.disk_full and free > 2 * _FLOOR:
                self.disk_full = False
                self._keep_ballast()  # room for the next emergency
                logger.warning("journal %s: room on the disk again", self.path)
            if not self._guard(insert, "journalling an event"):
                self.dropped += 1  # not even this one fits: it is lost, and counted
                return
            self._count += 1
            if time.monotonic() - self._expired_at > 60:  # a scan a minute, not one per note
                self._guard(self._expire)
            excess = self._count - self.max_events
            self._sized_at += 1
            if excess <= 0 and self._sized_at >= 16:  # the byte bound, checked every 16 events
                self._sized_at = 0
                used = self._used_bytes()
                if used > self.max_bytes:  # down to 90 % of it, so the check is not due every event
                    excess = max(1, int(self._count * (1 - 0.9 * self.max_bytes / used)))
            if excess > 0:
                self._guard(lambda: self._drop_oldest(excess))
                if time.monotonic() - self._warned_at > 60:  # once a minute, not once a note
                    self._warned_at = time.monotonic()
                    logger.warning("journal full (%d events or %.1f MB): dropping the oldest, %d dropped so far",
                                   self.max_events, self.max_bytes / 2**20, self.dropped)

    def _make_room(self, wanted: int) -> None:
        """Drop the oldest `wanted` events; lock held. A few at a time, each batch checkpointed: on a
        full disk the WAL cannot grow past the blocks it already has, and RESTART lets the next reuse them."""
        while wanted > 0 and self._count:
            wanted -= self._drop_oldest(min(wanted, 4)) or wanted
            self._db.execute("PRAGMA wal_checkpoint(RESTART)")

    def _room_for(self, size: int) -> None:
        """Free pages inside the file for one more event of `size` bytes, dropping the oldest as needed."""
        while self._count and (self._db.execute("PRAGMA freelist_count").fetchone()[0] * self._page_size
                               < size + 2 * self._page_size):
            self._make_room(2)

    def _free_bytes(self) -> int:
        try:
            fs = os.statvfs(self.path.parent)
        except OSError:
            return 1 << 40
        return fs.f_bavail * fs.f_frsize

    def _used_bytes(self) -> int:
        pages = self._db.execute("PRAGMA page_count").fetchone()[0]
        free = self._db.execute("PRAGMA freelist_count").fetchone()[0]
        return (pages - free) * self._page_size

    def _expire(self) -> None:
        """Drop events older than max_age (a unit cut off from its broker for weeks); lock held."""
        self._expired_at = time.monotonic()
        if self.max_age <= 0 or not self._count:
            return
        gone = self._db.execute("DELETE FROM events WHERE created < ?", (time.time() - self.max_age,)).rowcount
        if gone:
            self._count -= gone
            self.dropped += gone
            logger.warning("journal: dropped %d events older than %.1f days, %d dropped so far",
                           gone, self.max_age / 86400, self.dropped)

    def claim(self, seq: int) -> bool:
        """Mark an event as handed to the MQTT client, unless its bounds dropped it meanwhile (False):
        every event is then either delivered or counted in `dropped`, never both."""
        with self._lock:
            if self._db.execute("SELECT 1 FROM events WHERE seq=?", (seq,)).fetchone() is None:
                return False
            self.in_flight_upto = max(self.in_flight_upto, seq)
            return True

    def acknowledge(self, seq: int) -> None:
        def delete():
            self._count -= self._db.execute("DELETE FROM events WHERE seq=?", (seq,)).rowcount

        with self._lock:
            self._guard(delete, "deleting a delivered event")

    def pending(self, after: int = 0, limit: int = 500) -> list[Entry]:
        """Unacknowledged events with seq > after, oldest first."""
        with self._lock:
            rows = self._db.execute("SELECT seq, topic, payload, qos, retained FROM events WHERE seq>?"
                                    " ORDER BY seq LIMIT ?", (after, limit)).fetchall()
        return [Entry(seq, topic, bytes(payload), qos, bool(retained)) for seq, topic, payload, qos, retained in rows]

    def __len__(self) -> int:
        return self._count

    def close(self) -> None:
        with self._lock:
            self._db.close()

"""SQLite store-and-forward journal: events wait here until the broker acknowledges them."""
from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

# Sequence numbers are reserved in blocks so that messages which are never journalled
# (metrics, debug hands) cost no disk write each, yet seq stays monotonic across restarts.
_SEQ_BLOCK = 1000


@dataclass(frozen=True)
class Entry:
    seq: int
    topic: str
    payload: bytes
    qos: int
    retained: bool


class Journal:
    """Durable, ordered, bounded backlog of outgoing events, and the unit's seq counter."""

    def __init__(self, path: str | Path, max_events: int = 100_000, max_age: float = 0.0):
        self.path = Path(path)
        self.max_events = max_events
        self.max_age = max_age  # seconds; 0 keeps events until max_events pushes them out
        self.dropped = 0
        self._expired_at = 0.0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL mode survives a process crash; only a power cut may lose the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS events (seq INTEGER PRIMARY KEY, topic TEXT NOT NULL,"
            " payload BLOB NOT NULL, qos INTEGER NOT NULL, retained INTEGER NOT NULL, created REAL NOT NULL)")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS events_created ON events (created)")  # the age bound's scan
        row = self._db.execute("SELECT value FROM meta WHERE key='seq_reserved'").fetchone()
        top = self._db.execute("SELECT MAX(seq) FROM events").fetchone()[0] or 0
        self._next_seq = max(row[0] if row else 0, top) + 1
        self._reserved = self._next_seq - 1
        self._count = self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
        self._warned_at = 0.0
        with self._lock:
            self._expire()

    def next_seq(self) -> int:
        """The next per-unit sequence number; never repeats, even after a crash."""
        with self._lock:
            if self._next_seq > self._reserved:
                self._reserved = self._next_seq + _SEQ_BLOCK - 1
                # A reservation must survive a power cut (NORMAL may lose the last commits): a
                # re-used seq would make subscribers drop new events as duplicates. Once per block.
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('seq_reserved', ?)", (self._reserved,))
                self._db.execute("PRAGMA synchronous=NORMAL")
            seq = self._next_seq
            self._next_seq += 1
            return seq

    def append(self, entry: Entry) -> None:
        """Store an event durably before it is sent; drop the oldest beyond the bound."""
        with self._lock:
            self._db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?)",
                             (entry.seq, entry.topic, entry.payload, entry.qos, int(entry.retained), time.time()))
            self._count += 1
            if time.monotonic() - self._expired_at > 60:  # a scan a minute, not one per note
                self._expire()
            if self._count > self.max_events:
                excess = self._count - self.max_events
                self._db.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM events ORDER BY seq LIMIT ?)",
                                 (excess,))
                self._count -= excess
                self.dropped += excess
                if time.monotonic() - self._warned_at > 60:  # once a minute, not once a note
                    self._warned_at = time.monotonic()
                    logger.warning("journal full (%d events): dropping the oldest, %d dropped so far",
                                   self.max_events, self.dropped)

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

    def acknowledge(self, seq: int) -> None:
        with self._lock:
            self._count -= self._db.execute("DELETE FROM events WHERE seq=?", (seq,)).rowcount

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

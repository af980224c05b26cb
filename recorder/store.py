"""Messages into rows: the database opened and migrated, each event stored once, whatever the broker re-sends."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up is not the user's news
from alembic import command  # noqa: E402
from alembic.config import Config as AlembicConfig
from sqlalchemy import create_engine, delete, event, func, select, update
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from pianocam.recorder.schema import Event, Note, Session, Teacher, Unit
from pianocam.transport.messages import ROUTES

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# What the recorder subscribes to: every journalled event kind of the unit's routes (and `report`,
# the session report of issue 14, should the routes not name it yet), the session and the status.
EVENT_KINDS = tuple(sorted({kind for kind, route in ROUTES.items() if route.journalled and kind != "note"}
                           | {"report"}))
KINDS = ("status", "session", "note", *EVENT_KINDS)


class DatabaseError(ValueError):
    """A database URL that cannot be used; said in one line."""


def database_url(text: str) -> str:
    """A SQLAlchemy URL: a bare path is a SQLite file; postgresql:// means psycopg 3."""
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    try:
        url = make_url(text)
    except ArgumentError as err:
        raise DatabaseError(f"database URL {text!r}: {err}") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if not url.drivername.startswith(("sqlite", "postgresql")):
        raise DatabaseError(f"database URL {text!r}: only sqlite:/// and postgresql:// are supported")
    return url.render_as_string(hide_password=False)


def open_engine(text: str) -> Engine:
    """An engine for the URL, migrated to the newest schema (Alembic)."""
    url = database_url(text)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if str(path) not in ("", ":memory:") and not path.parent.is_dir():
            raise DatabaseError(f"database {text!r}: folder {path.parent} does not exist")
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":
        @event.listens_for(engine, "connect")
        def _pragmas(conn, record):
            # WAL lets the page read while the recorder writes; busy_timeout makes them wait, not fail.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("PRAGMA foreign_keys=ON")
    try:
        with engine.begin() as conn:
            cfg = AlembicConfig()
            cfg.set_main_option("script_location", str(MIGRATIONS))
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
    except Exception as err:
        if type(err).__module__.startswith(("sqlalchemy", "psycopg", "sqlite3")):
            raise DatabaseError(f"database {make_url(url).render_as_string()}: {err.__class__.__name__}: "
                                f"{str(err).splitlines()[0]}") from None
        raise
    return engine


def _insert(engine: Engine):
    if engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def epoch(ts: str) -> float:
    """The envelope's ISO-8601 ts as seconds since the epoch."""
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


@dataclass
class Tally:
    """What one batch did: rows stored, deliveries that were already stored, messages refused."""

    stored: int = 0
    duplicates: int = 0
    rejected: int = 0


class Store:
    """Writes batches of (topic, payload) in one transaction each; every insert is idempotent."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.insert = _insert(engine)
        self._units: set[str] = set()
        self._rejected_logged = 0.0

    def record(self, messages: list[tuple[str, dict]]) -> Tally:
        tally = Tally()
        now = time.time()
        notes, events, sessions, statuses, units = [], [], [], [], set()
        for topic, payload in messages:
            row = self._row(topic, payload, now)
            if row is None:
                tally.rejected += 1
                continue
            kind, values = row
            units.add(values["unit_id"])
            {"note": notes, "session": sessions, "status": statuses}.get(kind, events).append(values)
        with self.engine.begin() as conn:
            new_units = units - self._units
            if new_units:
                conn.execute(self.insert(Unit).on_conflict_do_nothing(index_elements=["unit_id"]),
                             [{"unit_id": u} for u in sorted(new_units)])
            for table, rows in ((Note, notes), (Event, events)):
                if rows:
                    # RETURNING counts what was new: rowcount is not reliable across executemany.
                    new = len(conn.execute(self.insert(table).on_conflict_do_nothing(
                        index_elements=["unit_id", "seq", "t"]).returning(table.id), rows).all())
                    tally.stored += new
                    tally.duplicates += len(rows) - new
            if sessions:
                # A unit re-sends its summary every second while playing, and again on every reconnect
                # and replay: only the newest of a batch is written, and only over an older one.
                newest = {}
                for values in sessions:
                    key = (values["unit_id"], values["started"])
                    if key not in newest or newest[key]["seq"] < values["seq"]:
                        newest[key] = values
                stmt = self.insert(Session)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["unit_id", "started"],
                    set_={k: stmt.excluded[k] for k in sessions[0] if k not in ("unit_id", "started", "student")}
                    | {"student": func.coalesce(stmt.excluded.student, Session.student)},
                    where=Session.seq < stmt.excluded.seq)
                conn.execute(stmt, list(newest.values()))
            for values in statuses:
                conn.execute(update(Unit).where(Unit.unit_id == values["unit_id"])
                             .where(func.coalesce(Unit.last_seen, 0.0) <= values["last_seen"]).values(**values))
        self._units |= units
        if tally.rejected and time.monotonic() - self._rejected_logged > 60:
            self._rejected_logged = time.monotonic()
            logger.warning("refused %d message(s) without a unit_id, seq and ts this batch", tally.rejected)
        return tally

    @staticmethod
    def _row(topic: str, payload: dict, now: float) -> tuple[str, dict] | None:
        parts = topic.split("/")
        if len(parts) < 3 or not isinstance(payload, dict):
            return None
        unit_id, kind = parts[-2], parts[-1]
        try:
            seq, t = int(payload["seq"]), epoch(payload["ts"])
        except (KeyError, TypeError, ValueError):
            return None
        if payload.get("unit_id", unit_id) != unit_id or kind not in KINDS:
            return None
        if kind == "note":
            if not isinstance(payload.get("pitch"), int):
                return None
            return kind, {"unit_id": unit_id, "seq": seq, "t": t, "received": now, "pitch": payload["pitch"],
                          "hand": _text(payload.get("hand"), 8), "finger": _int(payload.get("finger")),
                          "confidence": _float(payload.get("confidence")), "velocity": _int(payload.get("velocity")),
                          "verdict": _text(payload.get("verdict"), 16), "body": payload}
        if kind == "session":
            try:
                started = epoch(payload["started"])
            except (KeyError, TypeError, ValueError):
                return None
            # A practice session's running score sits in its `practice` block (issue 14's unit).
            practice = payload.get("practice") if isinstance(payload.get("practice"), dict) else payload
            return kind, {"unit_id": unit_id, "started": started, "seq": seq, "updated": t,
                          "active": bool(payload.get("active", True)), "notes": _int(payload.get("notes")) or 0,
                          "student": _text(payload.get("student"), 64), "exercise": _text(practice.get("exercise"), 128),
                          "tempo": _float(practice.get("tempo")),
                          "fingering_as_written": _float(practice.get("fingering_as_written")), "summary": payload}
        if kind == "status":
            return kind, {"unit_id": unit_id, "room": _text(payload.get("room"), 128),
                          "state": _text(payload.get("state"), 16), "last_seen": t}
        return kind, {"unit_id": unit_id, "seq": seq, "t": t, "received": now, "kind": kind, "body": payload}

    # --- reading and forgetting ---

    def stats(self) -> dict:
        with self.engine.connect() as conn:
            return {name: conn.scalar(select(func.count()).select_from(table))
                    for name, table in (("units", Unit), ("sessions", Session), ("notes", Note),
                                        ("events", Event))}

    def tag(self, session_id: int, student: str | None) -> bool:
        """Name the student of a stored session (the page's form); None clears it."""
        with self.engine.begin() as conn:
            return conn.execute(update(Session).where(Session.id == session_id)
                                .values(student=_text(student, 64))).rowcount == 1

    def forget_student(self, student: str) -> dict:
        """Delete a student's sessions and the notes and events played in them."""
        removed = {"sessions": 0, "notes": 0, "events": 0}
        with self.engine.begin() as conn:
            for row in conn.execute(select(Session).where(Session.student == student)).mappings().all():
                until = conn.scalar(select(func.min(Session.started)).where(Session.unit_id == row["unit_id"])
                                    .where(Session.started > row["started"]))
                for name, table in (("notes", Note), ("events", Event)):
                    q = delete(table).where(table.unit_id == row["unit_id"]).where(table.t >= row["started"])
                    if until is not None:
                        q = q.where(table.t < until)
                    removed[name] += conn.execute(q).rowcount
                removed["sessions"] += conn.execute(delete(Session).where(Session.id == row["id"])).rowcount
        return removed

    def set_teacher(self, name: str, password_hash: str) -> None:
        with self.engine.begin() as conn:
            stmt = self.insert(Teacher).values(name=name, password_hash=password_hash)
            conn.execute(stmt.on_conflict_do_update(index_elements=["name"],
                                                    set_={"password_hash": stmt.excluded.password_hash}))

    def teacher_hash(self, name: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.scalar(select(Teacher.password_hash).where(Teacher.name == name))


def _text(value, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit]


def _int(value) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _float(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None

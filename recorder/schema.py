"""The tables: units, sessions, notes, the other events (technique, skill, report), teachers."""
from __future__ import annotations

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Unit(Base):
    __tablename__ = "units"

    unit_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    room: Mapped[str | None] = mapped_column(String(128))
    state: Mapped[str | None] = mapped_column(String(16))  # online / offline, from the retained status
    last_seen: Mapped[float | None] = mapped_column(Float)  # the unit's clock, seconds since the epoch


class Session(Base):
    """One practice session; the unit re-publishes its retained summary, the newest seq wins."""

    __tablename__ = "sessions"
    __table_args__ = (UniqueConstraint("unit_id", "started", name="sessions_unit_started"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id", ondelete="CASCADE"), index=True)
    started: Mapped[float] = mapped_column(Float)  # unit clock, seconds since the epoch
    seq: Mapped[int] = mapped_column(Integer)  # of the summary stored
    updated: Mapped[float] = mapped_column(Float)  # ts of the summary stored
    active: Mapped[bool] = mapped_column(Boolean)
    notes: Mapped[int] = mapped_column(Integer)
    student: Mapped[str | None] = mapped_column(String(64), index=True)
    exercise: Mapped[str | None] = mapped_column(String(128))
    tempo: Mapped[float | None] = mapped_column(Float)  # bpm, when the unit follows an exercise
    fingering_as_written: Mapped[float | None] = mapped_column(Float)  # share 0-1, likewise
    summary: Mapped[dict] = mapped_column(JSON)


class Note(Base):
    """A note played. (unit, seq, ts) is unique: a replayed or re-delivered note is stored once; ts is in
    the key so a unit whose journal was wiped (seq from 1 again) is not taken for a replay."""

    __tablename__ = "notes"
    __table_args__ = (UniqueConstraint("unit_id", "seq", "t", name="notes_unit_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    t: Mapped[float] = mapped_column(Float, index=True)  # the unit's ts, seconds since the epoch
    received: Mapped[float] = mapped_column(Float)  # the recorder's clock when stored
    pitch: Mapped[int] = mapped_column(Integer)
    hand: Mapped[str | None] = mapped_column(String(8))
    finger: Mapped[int | None] = mapped_column(Integer)
    confidence: Mapped[float | None] = mapped_column(Float)
    velocity: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str | None] = mapped_column(String(16))  # against an exercise, when the unit follows one
    body: Mapped[dict] = mapped_column(JSON)


class Event(Base):
    """technique, skill and report messages, kept whole."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("unit_id", "seq", "t", name="events_unit_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[str] = mapped_column(ForeignKey("units.unit_id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    t: Mapped[float] = mapped_column(Float, index=True)
    received: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    body: Mapped[dict] = mapped_column(JSON)


class Teacher(Base):
    __tablename__ = "teachers"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))  # argon2, via pwdlib

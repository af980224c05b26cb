"""What a teacher reads: practice time per session, day and week; tempo and fingering per exercise over time."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy import select
from sqlalchemy.engine import Engine

from pianocam.recorder.schema import Event, Note, Session

IDLE_S = 10.0  # a gap between notes longer than this is a pause, not practice (as the unit's `playing`)


def practice_seconds(times: np.ndarray, idle: float = IDLE_S) -> float:
    """Seconds spent playing: the gaps between consecutive notes, except those longer than `idle` (pauses)."""
    if len(times) < 2:
        return 0.0
    gaps = np.diff(np.sort(times))
    return float(gaps[gaps <= idle].sum())


@dataclass
class SessionRow:
    id: int
    unit_id: str
    student: str | None
    started: datetime
    until: float  # the unit's next session start (inf for its latest): the notes and report in between are its
    practice_s: float
    notes: int
    exercise: str | None
    tempo: float | None
    fingering_as_written: float | None
    right_share: float | None  # of the notes judged against an exercise, the share that were right


def sessions(engine: Engine, student: str | None = None, unit_id: str | None = None) -> list[SessionRow]:
    """Sessions of a student or a unit (or all), oldest first, each with the practice time of its notes.

    A note belongs to the unit's latest session started at or before it, so notes that reached the
    recorder before their session's summary (or were replayed later) still land in the right one."""
    with engine.connect() as conn:
        q = select(Session).order_by(Session.started)
        every = conn.execute(q).mappings().all()
        wanted = [s for s in every if (student is None or s["student"] == student)
                  and (unit_id is None or s["unit_id"] == unit_id)]
        wanted_ids = {s["id"] for s in wanted}
        out = []
        for unit in sorted({s["unit_id"] for s in wanted}):
            starts = [s for s in every if s["unit_id"] == unit]
            edges = [s["started"] for s in starts] + [float("inf")]
            for i, s in enumerate(starts):
                if s["id"] not in wanted_ids:
                    continue
                rows = conn.execute(select(Note.t, Note.verdict).where(Note.unit_id == unit)
                                    .where(Note.t >= edges[i]).where(Note.t < edges[i + 1])).all()
                times = np.array([r[0] for r in rows])
                judged = [r[1] for r in rows if r[1]]
                out.append(SessionRow(s["id"], unit, s["student"], datetime.fromtimestamp(s["started"]),
                                      edges[i + 1], practice_seconds(times), len(rows), s["exercise"], s["tempo"],
                                      s["fingering_as_written"],
                                      sum(v == "right" for v in judged) / len(judged) if judged else None))
    return sorted(out, key=lambda r: r.started)


def per_day(rows: list[SessionRow]) -> dict[date, float]:
    """Minutes practised on each day from the first session to the last (days without practice are 0)."""
    if not rows:
        return {}
    first, last = rows[0].started.date(), rows[-1].started.date()
    days = {first + timedelta(d): 0.0 for d in range((last - first).days + 1)}
    for r in rows:
        days[r.started.date()] += r.practice_s / 60
    return days


def per_week(rows: list[SessionRow]) -> dict[str, float]:
    """Minutes practised per ISO week, e.g. {"2026-W37": 212.5}."""
    weeks: dict[str, float] = {}
    for day, minutes in per_day(rows).items():
        year, week, _ = day.isocalendar()
        key = f"{year}-W{week:02d}"
        weeks[key] = weeks.get(key, 0.0) + minutes
    return weeks


def by_exercise(rows: list[SessionRow]) -> dict[str, list[SessionRow]]:
    """The sessions that followed an exercise, per exercise, oldest first."""
    out: dict[str, list[SessionRow]] = {}
    for r in rows:
        if r.exercise:
            out.setdefault(r.exercise, []).append(r)
    return out


def reports(engine: Engine, rows: list[SessionRow], limit: int = 5) -> list[dict]:
    """The reports of the latest of these sessions (newest first), as the units sent them."""
    out = []
    with engine.connect() as conn:
        for r in sorted(rows, key=lambda r: r.started, reverse=True):
            body = conn.scalar(select(Event.body).where(Event.kind == "report").where(Event.unit_id == r.unit_id)
                               .where(Event.t >= r.started.timestamp()).where(Event.t < r.until)
                               .order_by(Event.t.desc()).limit(1))
            if body is not None:
                out.append(body)
                if len(out) == limit:
                    break
    return out


def names(engine: Engine) -> tuple[list[str], list[str]]:
    """(students, units) known to the database, sorted."""
    with engine.connect() as conn:
        students = sorted(r[0] for r in conn.execute(select(Session.student).distinct()) if r[0])
        units = sorted(r[0] for r in conn.execute(select(Session.unit_id).distinct()))
    return students, units

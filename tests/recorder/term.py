"""A recorded term, made up but played: six weeks of after-school sessions by three students on two units.

Each session plays one exercise from the scene renderer's score (scene/score.py, the pieces the
rendered videos show, with their book fingering) at a tempo and a share of book fingers that improve over
the term, with a pause mid-session. The messages are the units' own envelopes (schema, unit_id, ts, seq);
they go straight into the store, as the recorder's transport would hand them over (that path is tested
in test_recorder.py). The truth kept beside them (minutes played, tempo, share per session) is from the
plan, not from the recorder's arithmetic.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from pianocam.scene.score import compose
from pianocam.transport.messages import envelope, utc_timestamp

TERM_START = datetime(2026, 9, 7)  # a Monday
WEEKS = 6
PAUSE_S = 40.0  # the student stops mid-session (the page must not count it as practice)
STUDENTS = {  # name: (units they use, exercises as (name, piece), days of the week they come, start tempo)
    "Ana": (("practice-1",), (("C major scale", "scales"), ("C major arpeggio", "arpeggios")), (0, 2, 3), 72),
    "Ben": (("practice-1", "practice-2"), (("G major scale", "scales"),), (1, 3), 84),
    "Chloe": (("practice-2",), (("Broken chords", "chords"), ("Thumb crossings", "crossings")), (0, 1, 4), 66),
}


@dataclass
class PlannedSession:
    unit_id: str
    student: str
    exercise: str
    started: float
    tempo: float
    played_s: float  # seconds of playing, the pause left out
    as_written: float = 0.0  # measured from the notes sent
    notes: int = 0


@dataclass
class Term:
    messages: list[tuple[str, dict]] = field(default_factory=list)
    sessions: list[PlannedSession] = field(default_factory=list)


def make_term(seed: int = 16) -> Term:
    rng = np.random.default_rng(seed)
    term = Term()
    seq: dict[str, int] = {}
    busy: dict[str, float] = {}  # unit -> when it is free again

    def send(unit: str, kind: str, body: dict, when: float) -> None:
        seq[unit] = seq.get(unit, 0) + 1
        term.messages.append((f"pianocam/{unit}/{kind}", envelope(unit, seq[unit], body, when=when)))

    for day in range(WEEKS * 7):
        date = TERM_START + timedelta(days=day)
        for name, (units, exercises, weekdays, tempo0) in STUDENTS.items():
            if date.weekday() not in weekdays:
                continue
            progress = day / (WEEKS * 7)
            unit = units[day % len(units)]
            started = max((date + timedelta(hours=15, minutes=int(rng.integers(0, 90)))).timestamp(),
                          busy.get(unit, 0.0) + 60)
            exercise, piece = exercises[int(rng.integers(len(exercises)))]
            tempo = round(tempo0 + 30 * progress + float(rng.normal(0, 2)), 1)
            share = min(0.98, 0.62 + 0.33 * progress + float(rng.normal(0, 0.03)))
            halves = [float(rng.uniform(120, 300)) for _ in range(2)]
            planned = PlannedSession(unit, name, exercise, started, tempo, 0.0)
            send(unit, "session", {"active": True, "started": utc_timestamp(started), "notes": 0, "student": name,
                                   "practice": {"exercise": exercise, "tempo": tempo}}, started)
            t, right, played = started, 0, []
            for h, seconds in enumerate(halves):
                notes = compose(piece, int(rng.integers(1 << 30)), seconds, tempo, "both")
                for n in notes:
                    finger = n["finger"]
                    as_book = rng.random() < share
                    if not as_book:
                        finger = 1 + (finger % 5)  # another finger than the book's
                    right += as_book
                    when = t + n["onset"]
                    played.append(when)
                    send(unit, "note", {"pitch": n["pitch"], "name": "", "onset": round(when - started, 4),
                                        "offset": None, "velocity": n["velocity"], "hand": n["hand"],
                                        "finger": finger, "confidence": 0.9, "source": "midi",
                                        "expected": {"pitch": n["pitch"], "finger": n["finger"]},
                                        "verdict": "right" if as_book else "wrong_finger"}, when)
                planned.played_s += notes[-1]["onset"] - notes[0]["onset"]
                t = played[-1] + PAUSE_S
            planned.notes = len(played)
            planned.as_written = right / len(played)
            end = played[-1] + 1.0
            summary = {"active": False, "started": utc_timestamp(started), "notes": planned.notes, "student": name,
                       "practice": {"exercise": exercise, "tempo": tempo,
                                    "fingering_as_written": round(planned.as_written, 4)}}
            send(unit, "session", summary, end)
            send(unit, "report", {"exercise": exercise, "tempo": tempo, "fingering_as_written":
                                  round(planned.as_written, 4), "notes": planned.notes,
                                  "minutes": round(planned.played_s / 60, 1)}, end)
            busy[unit] = end
            term.sessions.append(planned)
    return term

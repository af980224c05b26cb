"""The practice session: notes played and fingers used, published as retained state."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from pianocam.transport.messages import utc_timestamp


@dataclass
class Session:
    """Counts since the session started; `summary()` is the retained `session` payload."""

    started: float = field(default_factory=time.time)
    active: bool = True
    notes: int = 0
    unknown: int = 0
    per_finger: dict = field(default_factory=lambda: {"left": {str(f): 0 for f in range(1, 6)},
                                                      "right": {str(f): 0 for f in range(1, 6)}})
    last_note_at: float | None = None
    student: str | None = None  # the name the school chose, from cmd/start_session {"student": ...}
    practice: object = None  # a PracticeSession: its running score joins the summary

    def add(self, fingering) -> None:
        self.notes += 1
        self.last_note_at = time.time()
        if fingering.hand is None or fingering.finger is None:
            self.unknown += 1
        else:
            self.per_finger[fingering.hand][str(fingering.finger)] += 1

    def playing(self, idle_after: float = 10.0) -> bool:
        return self.last_note_at is not None and time.time() - self.last_note_at < idle_after

    def summary(self) -> dict:
        return {"active": self.active, "started": utc_timestamp(self.started), "notes": self.notes,
                "per_finger": self.per_finger, "unknown_share": self.unknown / self.notes if self.notes else 0.0,
                "playing": self.playing(), **({"student": self.student} if self.student else {}),
                **({"practice": self.practice.running()} if self.practice is not None else {})}

"""What should be played: notes with hand, finger and position in the score (beats, bar, passage)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

HANDS = ("together", "left", "right")


@dataclass(frozen=True)
class ExpectedNote:
    index: int            # position in the score, 0-based, in playing order (beat, hand, pitch)
    pitch: int            # MIDI number
    hand: str             # "left" | "right"
    finger: int | None    # 1-5 as written; None where the book gives none
    beat: float           # onset in quarter notes from the start
    duration: float       # in quarter notes
    bar: int = 1
    passage: int = 1

    def to_message(self) -> dict:
        """The `expected` field of a note message."""
        return {"index": self.index, "pitch": self.pitch, "hand": self.hand, "finger": self.finger,
                "beat": round(self.beat, 4), "bar": self.bar, "passage": self.passage}


@dataclass
class Score:
    """A piece or exercise: its notes in playing order and where they came from."""

    name: str
    title: str
    notes: list[ExpectedNote]
    passages: list[str] = field(default_factory=list)
    source: str = ""          # attribution
    tempo: float = 60.0       # suggested quarter notes per minute

    def __post_init__(self):
        self.notes = sorted(self.notes, key=lambda n: (n.beat, n.hand != "left", n.pitch))
        self.notes = [replace(n, index=i) for i, n in enumerate(self.notes)]

    @property
    def fingered(self) -> bool:
        return any(n.finger is not None for n in self.notes)

    @property
    def beats(self) -> float:
        return max((n.beat + n.duration for n in self.notes), default=0.0)

    def select(self, hands: str = "together", passage: int | None = None) -> "Score":
        """The part to practise: one hand or both, one passage or all (re-timed to start at beat 0)."""
        if hands not in HANDS:
            raise ValueError(f"hands must be one of {HANDS}, not {hands!r}")
        notes = [n for n in self.notes if hands in ("together", n.hand)
                 and (passage is None or n.passage == passage)]
        if passage is not None and not notes:
            raise ValueError(f"{self.name} has passages 1-{len(self.passages) or 1}, not {passage}")
        start = min((n.beat for n in notes), default=0.0)
        notes = [replace(n, beat=n.beat - start) for n in notes]
        return Score(self.name, self.title, notes, self.passages, self.source, self.tempo)

    def to_dict(self) -> dict:
        return {"name": self.name, "title": self.title, "source": self.source, "tempo": self.tempo,
                "passages": self.passages,
                "notes": [[n.pitch, n.hand[0], n.finger, round(n.beat, 4), round(n.duration, 4), n.bar, n.passage]
                          for n in self.notes]}

    @classmethod
    def from_dict(cls, data: dict) -> "Score":
        hands = {"l": "left", "r": "right"}
        notes = [ExpectedNote(0, p, hands[h], f, b, d, bar, passage)
                 for p, h, f, b, d, bar, passage in data["notes"]]
        return cls(data["name"], data["title"], notes, list(data.get("passages", [])), data.get("source", ""),
                   float(data.get("tempo", 60.0)))

    def describe(self) -> dict:
        hands = sorted({n.hand for n in self.notes})
        return {"name": self.name, "title": self.title, "notes": len(self.notes), "hands": hands,
                "passages": len(self.passages) or 1, "fingered": self.fingered,
                "unfingered_notes": sum(n.finger is None for n in self.notes),
                "lowest": min(n.pitch for n in self.notes), "highest": max(n.pitch for n in self.notes)}


def as_dict(note: ExpectedNote) -> dict:
    return asdict(note)

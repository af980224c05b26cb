"""The pipeline's stages, each an interface: calibration, notes, technique; what the frame loop hands each."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.hands.tracker import Hands
from pianocam.notes import NoteEvent


@dataclass
class Heard:
    """What the note stage made of one frame, or of a moment without one."""

    notes: list[NoteEvent] = field(default_factory=list)  # new from the note source, on its own clock
    clock_offset: float = 0.0    # a note at onset o shows in the frame at t = o - clock_offset
    messages: list[dict] = field(default_factory=list)    # `note` bodies to publish, in order


class CalibrationStage(Protocol):
    """Keeps the key map right: shown each frame's image before tracking, then the notes heard and the hands found."""

    def add_frame(self, image: np.ndarray) -> None:
        """Map the keys from this image when a map is due; start a drift check when one is."""

    def add_notes(self, notes: list[NoteEvent], clock_offset: float) -> None:
        """Notes just heard, for checking the keys' numbering once the frames after them are in."""

    def add_hands(self, hands: Hands) -> None:
        """A frame's hands, after its notes."""


class NoteStage(Protocol):
    """Note source → the finger that played each note → the session (and practice verdicts)."""

    decided: int        # notes given their fingers (or none) since the start

    @property
    def keymap(self) -> KeyMap | None:
        """The key map fingers are found on; the tracker looks at the same keyboard."""

    def add_frame(self, image: np.ndarray, hands: Hands) -> Heard:
        """A tracked frame: the notes it decides and those the source gave since the last call."""

    def poll(self, flush: bool = False) -> Heard:
        """No tracked frame: the notes the source gave; with flush, those waiting are decided without frames."""

    def flush(self) -> list[dict]:
        """The stream has ended: the notes still waiting for frames, decided."""

    def summary(self) -> dict:
        """The retained `session` state."""

    def session_update(self) -> dict | None:
        """The `session` state when it changed since the last call, else None."""


class TechniqueStage(Protocol):
    """Rolling windows of each hand → technique estimates."""

    def update(self, hands: Hands) -> list[dict]:
        """One frame's hands; a `technique` body for each window that just became due."""

"""Note sources behind one interface: live MIDI, MIDI file replay, audio transcription, vision."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from pianocam.calibration.keymap import note_name

if TYPE_CHECKING:
    import numpy as np

    from pianocam.hands.tracker import Hands


@dataclass
class NoteEvent:
    pitch: int                   # MIDI number
    onset: float                 # seconds on the note source's clock
    offset: float | None         # None while the key is still down
    velocity: int                # 1-127 (audio: estimated from amplitude)
    source: str                  # "midi" | "midi-file" | "audio" | "vision"
    confidence: float = 1.0      # how sure the source is that this note was played

    @property
    def name(self) -> str:
        return note_name(self.pitch)


class NoteSource:
    """Yields NoteEvents as they are known. Subclasses implement open/poll/close.

    poll(timeout) returns the notes that became known since the last call (possibly none),
    waiting at most timeout seconds; it returns None once the source has ended for good.
    A note is delivered once: MIDI at its onset (offset None while the key is down); audio
    once the transcriber is sure of it, up to ~2 s after its onset, with its offset when the
    note has already ended and None when it still sounds.

    Two abilities have defaults that do nothing: `observe` for sources that hear with the camera
    (vision notes are made from the very frame the hands were found on), `start_at` for replays that
    start with the video (a MIDI file played in real time beside its recording).
    """

    name = "notes"

    @property
    def monotonic_origin(self) -> float | None:
        """time.monotonic() at onset 0, for sources on a clock of their own (live MIDI, a microphone);
        None when onsets already count like frame times (files replayed with the video, vision)."""
        return None

    def open(self) -> "NoteSource":
        return self

    def poll(self, timeout: float = 0.0) -> list[NoteEvent] | None:
        raise NotImplementedError

    def observe(self, image: np.ndarray, hands: Hands) -> None:
        """See one frame and the hands found on it, before the next poll."""

    def start_at(self, t0: float) -> None:
        """Start the replay's onset 0 at this time.monotonic() instant (the first video frame's)."""

    def close(self) -> None:
        pass

    def read_all(self) -> list[NoteEvent]:
        """Every note up to the source's end: a file's notes at once (the source must be open)."""
        notes = []
        while (due := self.poll(0.5)) is not None:
            notes += due
        return notes

    def __enter__(self) -> "NoteSource":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

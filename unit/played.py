"""The pipeline's note stage: notes from their source, the finger that played each, the session and verdicts."""
from __future__ import annotations

import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.fingering import FingerAssigner, Fingering
from pianocam.hands.tracker import Hands
from pianocam.notes import NoteSource
from pianocam.sources import FrameSource
from pianocam.unit.session import Session
from pianocam.unit.stages import Heard

# How long notes wait for the keys' numbering when the map is provisional (located, octave not yet known
# from the notes): less than the assigner's 4 s of frames, so a held note is still decided from its own moment.
NUMBERING_WAIT_S = 3.0

class PlayedNotes:
    """Polls the note source, puts its notes on the frame clock, hands them to the finger assigner, and
    turns what it decides into `note` messages counted in the session (judged when a practice session runs).

    `frames` is the frame source whose clock the notes are put on; without it the assigner's offset stays.
    """

    def __init__(self, source: NoteSource | None, assigner: FingerAssigner, frames: FrameSource | None = None,
                 camera_latency: float = 0.0):
        self.source = source
        self.assigner = assigner
        self.frames = frames
        self.camera_latency = camera_latency  # a live frame is stamped this long after the moment it shows
        self.session = Session()
        self.practice = None  # a pianocam.practice.live.PracticeSession adds expected and verdict to each note
        self.decided = 0
        self._held: list = []  # notes heard while the keys were named provisionally
        self._polling = source is not None
        self._changed = True

    @property
    def keymap(self) -> KeyMap | None:
        return self.assigner.keymap

    def use_keymap(self, keymap: KeyMap | None) -> None:
        """Find fingers on this key map from now on (a calibration stage's `on_keymap`)."""
        self.assigner.keymap = keymap

    def open(self) -> str | None:
        """Open the note source; None, or why its notes are off (a transcription model that will not load
        turns off only them)."""
        if self.source is None:
            return None
        from pianocam.notes.transcribe import NoteModelError

        try:
            self.source.open()
        except NoteModelError as err:
            self.close()
            self.source, self._polling = None, False
            return str(err)
        if self.frames is not None and self.frames.realtime:
            self.source.start_at(self.frames.started_at)
        return None

    def close(self) -> None:
        if self.source is not None:
            self.source.close()

    def add_frame(self, image: np.ndarray, hands: Hands) -> Heard:
        if self._polling:  # vision notes come from this very frame
            self.source.observe(image, hands)
        decided = self.assigner.add_frame(hands)
        notes, more = self._hear()
        return Heard(notes, self.assigner.clock_offset, self._judge(decided + more + self._release(hands.t)))

    def poll(self, flush: bool = False) -> Heard:
        notes, decided = self._hear()
        if flush:  # no frames to match them with: notes go out (fingers unknown) rather than wait
            decided += self._release(float("inf")) + self.assigner.flush()
        return Heard(notes, self.assigner.clock_offset, self._judge(decided))

    def _hear(self) -> tuple[list, list]:
        """The notes the source gave since the last call, and those the assigner decided on hearing them."""
        notes = self.source.poll(0.0) if self._polling else []
        if notes is None:
            self._polling = False  # the note source has ended; frames go on
            return [], []
        if not notes:
            return [], []
        # A microphone's clock is known only once its first sample is in: align on every batch.
        self._align_clocks()
        if self._numbering_pending():
            self._held += notes
            return notes, []
        return notes, self.assigner.add_notes(notes)

    def _numbering_pending(self) -> bool:
        keymap = self.assigner.keymap
        return keymap is not None and keymap.numbered_by == "provisional"

    def _release(self, now: float) -> list:
        """Held notes, once the notes have numbered the keys; those that waited too long go out with their
        fingers unknown, since a provisional octave would give another key's fingers."""
        if not self._held:
            return []
        if not self._numbering_pending():
            held, self._held = self._held, []
            return self.assigner.add_notes(held)
        offset = self.assigner.clock_offset
        late = [n for n in self._held if n.onset - offset < now - NUMBERING_WAIT_S]
        self._held = [n for n in self._held if n not in late]
        return [Fingering(n, None, None, 0.0, float("inf")) for n in late]

    def flush(self) -> list[dict]:
        return self._judge(self._release(float("inf")) + self.assigner.flush())

    def _judge(self, fingerings: list) -> list[dict]:
        messages = []
        for fingering in fingerings:
            message = fingering.to_message()
            messages += self.practice.judge(message) if self.practice is not None else [message]
            self.session.add(fingering)
            self.decided += 1
            self._changed = True
        return messages

    def _align_clocks(self) -> None:
        """Put note onsets on the frame clock (frame.t counts from the source's opening instant t0).

        Files and scenes replayed in real time start together: the MIDI replay is started at the
        instant the video started, so both count from zero, as do vision notes (made from frames).
        A source with a clock of its own says where its onset 0 lies on time.monotonic() (live
        MIDI: 0, onsets are arrival times; a microphone: its first sample), so a note at onset o
        happened at origin + o, which a frame shows at t = origin + o - t0 + camera_latency (a live
        frame is stamped when it arrives, camera_latency after the moment it shows).
        """
        if self.frames is None:
            return
        origin = self.source.monotonic_origin
        if origin is None:
            self.assigner.clock_offset = 0.0
            return
        latency = self.camera_latency if self.frames.live else 0.0
        self.assigner.clock_offset = self.frames.started_at - origin - latency

    # --- the session, started and ended by commands ---
    def summary(self) -> dict:
        return self.session.summary()

    def session_update(self) -> dict | None:
        if not self._changed:
            return None
        self._changed = False
        return self.session.summary()

    def new_session(self, student: str | None = None, practice=None) -> dict:
        self.session = Session(student=student)
        self.practice = self.session.practice = practice
        self._changed = True
        return self.session.summary()

    def end_session(self) -> dict:
        self.session.active = False
        self._changed = True
        return self.session.summary()

    def finish_practice(self) -> tuple[list[dict], dict] | None:
        """End the practice session: (its missed notes, its report), or None when none ran."""
        practice, self.practice = self.practice, None
        return practice.finish() if practice is not None else None

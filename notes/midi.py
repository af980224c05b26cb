"""Notes from MIDI: a live keyboard (mido + python-rtmidi, re-found when re-plugged) or a file."""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path

import mido

from pianocam.notes import NoteEvent, NoteSource
from pianocam.sources.base import SourceError

logger = logging.getLogger(__name__)


def read_midi_notes(path: str | Path) -> list[NoteEvent]:
    """Every note of a MIDI file with onset and offset in seconds, sorted by onset then pitch."""
    try:
        midi = mido.MidiFile(str(path))
    except (OSError, EOFError, ValueError) as err:
        raise ValueError(f"cannot read MIDI file {path}: {err}") from None
    notes: list[NoteEvent] = []
    sounding: dict[tuple[int, int], NoteEvent] = {}
    now = 0.0
    for message in midi:  # iterating a MidiFile merges tracks and gives delta times in seconds
        now += message.time
        if message.type == "note_on" and message.velocity > 0:
            earlier = sounding.get((message.channel, message.note))
            if earlier is not None:  # struck again before its note_off: the first note ends here
                earlier.offset = now
            note = NoteEvent(message.note, now, None, message.velocity, "midi-file")
            sounding[(message.channel, message.note)] = note
            notes.append(note)
        elif message.type in ("note_off", "note_on"):
            note = sounding.pop((message.channel, message.note), None)
            if note is not None:
                note.offset = now
    for note in sounding.values():
        note.offset = now
    notes.sort(key=lambda n: (n.onset, n.pitch))
    return notes


class MidiFileSource(NoteSource):
    """A MIDI file; with realtime=True each note is released at its onset, as if played now."""

    def __init__(self, path: str | Path, realtime: bool = True, speed: float = 1.0,
                 loop_period: float | None = None):
        self.name = f"midi-file:{Path(path).name}"
        try:
            self.notes = read_midi_notes(path)
        except ValueError as err:  # a bad file named in the config: one line and exit 2, not a traceback
            raise SourceError(str(err)) from None
        self.realtime = realtime
        self.speed = speed
        # Replayed again every loop_period seconds (with a looping video of the same performance).
        self.loop_period = loop_period if realtime else None
        self._next = 0
        self._cycle = 0
        self._t0: float | None = None

    def open(self) -> "MidiFileSource":
        self._t0 = time.monotonic()
        return self

    def start_at(self, t0: float) -> None:
        """Align the file's time zero with a monotonic instant (the first video frame's, say)."""
        self._t0 = t0

    def _note(self, index: int) -> NoteEvent:
        note = self.notes[index]
        if not self._cycle:
            return note
        shift = self._cycle * self.loop_period
        return NoteEvent(note.pitch, note.onset + shift, None if note.offset is None else note.offset + shift,
                         note.velocity, note.source, note.confidence)

    def poll(self, timeout: float = 0.0) -> list[NoteEvent] | None:
        if self._next >= len(self.notes):
            if not self.loop_period or not self.notes:
                return None
            self._next, self._cycle = 0, self._cycle + 1
        if not self.realtime:
            due, self._next = self.notes[self._next:], len(self.notes)
            return due
        if self._t0 is None:
            self.open()
        elapsed = (time.monotonic() - self._t0) * self.speed
        upcoming = self._note(self._next).onset
        if upcoming > elapsed and timeout > 0:
            time.sleep(min(timeout, (upcoming - elapsed) / self.speed))
            elapsed = (time.monotonic() - self._t0) * self.speed
        due = []
        while self._next < len(self.notes) and self._note(self._next).onset <= elapsed:
            due.append(self._note(self._next))
            self._next += 1
        return due


class LiveMidiSource(NoteSource):
    """A USB or DIN MIDI keyboard. A watcher re-finds the port when it is switched off and on
    or re-plugged, so nobody has to restart the unit (polls every `rescan` seconds)."""

    def __init__(self, port: str = "", rescan: float = 0.5, backend=None):
        self.want = port  # a substring of the port name; empty: the first port that is not a "Through" port
        self.rescan = rescan
        self.name = f"midi:{port or 'auto'}"
        self._backend = backend or mido.Backend("mido.backends.rtmidi")
        self._queue: queue.Queue[NoteEvent] = queue.Queue(maxsize=4096)
        self._sounding: dict[tuple[int, int], NoteEvent] = {}
        self._port = None
        self._port_name = ""
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="midi-hotplug", daemon=True)
        self.connected = threading.Event()
        self.reconnects = 0
        self.last_error = ""

    @property
    def monotonic_origin(self) -> float:
        return 0.0  # onsets are time.monotonic() on arrival

    def open(self) -> "LiveMidiSource":
        self._connect()
        self._watcher.start()
        return self

    def poll(self, timeout: float = 0.0) -> list[NoteEvent] | None:
        notes = []
        try:
            notes.append(self._queue.get(timeout=timeout) if timeout > 0 else self._queue.get_nowait())
            while True:
                notes.append(self._queue.get_nowait())
        except queue.Empty:
            pass
        return notes

    def close(self) -> None:
        self._stop.set()
        if self._watcher.is_alive():
            self._watcher.join(timeout=2)
        self._disconnect()

    @property
    def port_name(self) -> str:
        return self._port_name

    def _choose(self, names: list[str]) -> str | None:
        if self.want:
            return next((n for n in names if self.want.lower() in n.lower()), None)
        return next((n for n in names if "through" not in n.lower()), None)

    def _connect(self) -> None:
        try:
            names = self._backend.get_input_names()
        except Exception as err:  # no ALSA sequencer, say: keep looking, say why once
            if str(err) != self.last_error:
                logger.warning("no MIDI system available (%s); will keep looking", err)
            self.last_error = str(err)
            return
        name = self._choose(names)
        if name is None:
            return
        try:
            self._port = self._backend.open_input(name, callback=self._on_message)
        except Exception as err:
            self.last_error = str(err)
            logger.warning("cannot open MIDI port %r: %s", name, err)
            return
        self._port_name = name
        self.connected.set()
        logger.info("MIDI keyboard connected: %s", name)

    def _disconnect(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except Exception:
                pass
        self._port = None
        self.connected.clear()
        # Keys held when the cable went are finished now: nobody will send their note_off.
        self._sounding.clear()

    def _watch(self) -> None:
        while not self._stop.wait(self.rescan):
            if self._port is not None:
                try:
                    present = self._port_name in self._backend.get_input_names()
                except Exception:
                    present = False
                if not present:
                    logger.warning("MIDI keyboard %s went away; waiting for it", self._port_name)
                    self._disconnect()
            if self._port is None:
                self._connect()
                if self._port is not None:
                    self.reconnects += 1

    def _on_message(self, message) -> None:
        now = time.monotonic()
        if message.type == "note_on" and message.velocity > 0:
            note = NoteEvent(message.note, now, None, message.velocity, "midi")
            self._sounding[(message.channel, message.note)] = note
            try:
                self._queue.put_nowait(note)
            except queue.Full:
                logger.warning("note queue full: dropping note %d", message.note)
        elif message.type in ("note_on", "note_off"):
            note = self._sounding.pop((message.channel, message.note), None)
            if note is not None:
                note.offset = now

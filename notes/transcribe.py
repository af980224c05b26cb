"""Streaming piano transcription: basic-pitch's ONNX model over sliding 2 s windows, notes out as they settle."""
from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

import numpy as np

from pianocam.notes import NoteEvent
from pianocam.notes.decode import (
    ENERGY_TOLERANCE,
    FRAME_THRESHOLD,
    MIN_NOTE_FRAMES,
    ONSET_THRESHOLD,
    decode_notes,
    drop_octave_ghosts,
)

logger = logging.getLogger(__name__)

SAMPLE_RATE = 22050         # the model's input rate
FFT_HOP = 256               # samples per output frame: 86.13 frames per second
WINDOW_SAMPLES = 43844      # 2 s minus one hop: the model's fixed input length
WINDOW_FRAMES = 172         # frames the model returns per window (frame j centred on sample j * 256)
EDGE_FRAMES = 15            # basic-pitch trims 15 frames (half its 30-frame overlap) off each window edge
# A note is decided once this many frames after its onset are known: one for the onset peak,
# then the minimum length plus the run of quiet frames that can end it.
SETTLE_FRAMES = MIN_NOTE_FRAMES + ENERGY_TOLERANCE + 2
CONTEXT_FRAMES = 172        # decided frames kept as context so notes crossing a window edge continue
OUTPUTS = {"note": "StatefulPartitionedCall:1", "onset": "StatefulPartitionedCall:2"}


class NoteModelError(RuntimeError):
    """basic-pitch's model is missing or cannot be loaded; the message names the file."""


def model_path() -> Path:
    """nmp.onnx inside the installed basic-pitch wheel, found without importing basic_pitch (it probes TensorFlow)."""
    spec = importlib.util.find_spec("basic_pitch")
    if spec is None or not spec.submodule_search_locations:
        raise NoteModelError("basic-pitch is not installed: pip install --no-deps basic-pitch==0.4.0")
    path = Path(spec.submodule_search_locations[0]) / "saved_models" / "icassp_2022" / "nmp.onnx"
    if not path.is_file():
        raise NoteModelError(f"basic-pitch is installed but {path} is missing")
    return path


def load_model(threads: int = 1):
    """An onnxruntime session on nmp.onnx; one thread leaves the camera path its cores."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    from pianocam.models.runtime import onnx_providers
    path = model_path()
    try:
        return ort.InferenceSession(str(path), options, providers=onnx_providers())
    except Exception as err:  # onnxruntime's InvalidProtobuf, Fail, ... derive from Exception only
        raise NoteModelError(f"basic-pitch model {path}: onnxruntime cannot load it ({type(err).__name__}: "
                             f"{str(err).splitlines()[0][:160] if str(err) else ''}); reinstall basic-pitch") from None


def frame_time(frame: int) -> float:
    """Seconds from the stream start to the centre of output frame `frame`."""
    return frame * FFT_HOP / SAMPLE_RATE


class Transcriber:
    """Feed mono 22050 Hz audio, get NoteEvents.

    Windows of WINDOW_SAMPLES advance by hop_frames * 256 samples; each keeps hop_frames output
    frames and drops the EDGE_FRAMES at its right edge (and the rest at its left), where the model
    sees too little context. Kept frames tile the stream exactly, so frame k is at k * 256 / 22050 s.
    A note is emitted once SETTLE_FRAMES past its onset are known: its latency is at most
    (hop_frames + EDGE_FRAMES + SETTLE_FRAMES) frames plus one window's compute. Its offset is
    None when it is still sounding at that moment.
    """

    def __init__(self, session=None, hop_frames: int = 142, onset_threshold: float = ONSET_THRESHOLD,
                 frame_threshold: float = FRAME_THRESHOLD, melodia: bool = False, octave_ratio: float = 0.8,
                 source: str = "audio", threads: int = 1):
        if not 1 <= hop_frames <= WINDOW_FRAMES - 2 * EDGE_FRAMES:
            raise ValueError(f"hop_frames must be 1..{WINDOW_FRAMES - 2 * EDGE_FRAMES}, got {hop_frames}")
        self.session = session or load_model(threads)
        self.input_name = self.session.get_inputs()[0].name
        self.hop_frames = hop_frames
        self.left = WINDOW_FRAMES - EDGE_FRAMES - hop_frames  # frames dropped at each window's left edge
        self.thresholds = {"onset_threshold": onset_threshold, "frame_threshold": frame_threshold}
        # basic-pitch's melodia rule (notes from energy without an onset) is off by default: on piano
        # it mostly adds octave and harmonic false notes (benchmarks/transcription.py).
        self.melodia = melodia
        # Octave ghosts (the second harmonic reported as a note) are dropped under this strength ratio;
        # on rendered piano it lifts precision from 0.70 to 0.94 for 0.02 recall. 0 keeps them.
        self.octave_ratio = octave_ratio
        self.source = source
        self.windows = 0
        # Silence before the stream lets the first window keep frames from frame 0.
        self._audio = np.zeros(self.left * FFT_HOP, np.float32)
        self._samples = 0               # real samples fed so far
        self._note = np.zeros((0, 88), np.float32)
        self._onset = np.zeros((0, 88), np.float32)
        self._first = 0                 # global frame index of _note[0]
        self._decided = 0               # onsets before this frame have been emitted
        self._emitted: list[tuple[int, int]] = []  # (start frame, pitch) of recent notes

    @property
    def latency_bound(self) -> float:
        """Worst-case seconds from a note's onset to its emission, before compute."""
        return (self.hop_frames + EDGE_FRAMES + SETTLE_FRAMES) * FFT_HOP / SAMPLE_RATE

    def feed(self, audio: np.ndarray) -> list[NoteEvent]:
        """Add audio; returns the notes that became certain."""
        audio = np.asarray(audio, np.float32).reshape(-1)
        self._audio = np.concatenate([self._audio, audio])
        self._samples += len(audio)
        if not self._run_windows():
            return []
        return self._decide(len(self._note) + self._first - SETTLE_FRAMES, final=False)

    def finish(self) -> list[NoteEvent]:
        """The stream ended: run the last windows over trailing silence and emit every remaining note."""
        total = self._samples // FFT_HOP + 1
        while self._first + len(self._note) < total:
            self._audio = np.concatenate([self._audio, np.zeros(self.hop_frames * FFT_HOP, np.float32)])
            self._run_windows()
        cut = total - self._first
        self._note, self._onset = self._note[:cut], self._onset[:cut]
        return self._decide(total, final=True)

    def _run_windows(self) -> bool:
        hop = self.hop_frames * FFT_HOP
        ran = False
        while len(self._audio) >= WINDOW_SAMPLES:
            window = self._audio[:WINDOW_SAMPLES].reshape(1, -1, 1)
            note, onset = self.session.run([OUTPUTS["note"], OUTPUTS["onset"]], {self.input_name: window})
            keep = slice(self.left, self.left + self.hop_frames)
            self._note = np.concatenate([self._note, note[0, keep]])
            self._onset = np.concatenate([self._onset, onset[0, keep]])
            self._audio = self._audio[hop:]
            self.windows += 1
            ran = True
        return ran

    def _decide(self, until: int, final: bool) -> list[NoteEvent]:
        """Decode the buffer; emit notes whose onset lies in [decided, until)."""
        decoded = drop_octave_ghosts(decode_notes(self._note, self._onset, melodia=self.melodia, **self.thresholds),
                                     self.octave_ratio)
        events = []
        for note in sorted(decoded, key=lambda n: (n.start, n.pitch)):
            start = note.start + self._first
            if not self._decided - 3 <= start < until or self._seen(start, note.pitch):
                continue
            self._emitted.append((start, note.pitch))
            open_ended = note.open_ended and not final
            events.append(NoteEvent(
                pitch=note.pitch, onset=frame_time(start),
                offset=None if open_ended else frame_time(note.end + self._first),
                velocity=int(np.clip(round(127 * note.amplitude), 1, 127)), source=self.source,
                confidence=round(float(note.onset or note.amplitude), 3)))
        self._decided = max(self._decided, until)
        # Keep some decided frames as context: notes that cross the cut still find their energy.
        drop = max(0, self._decided - CONTEXT_FRAMES - self._first)
        self._note, self._onset = self._note[drop:], self._onset[drop:]
        self._first += drop
        self._emitted = [(s, p) for s, p in self._emitted if s >= self._first - SETTLE_FRAMES]
        return events

    def _seen(self, start: int, pitch: int) -> bool:
        # A note decoded again from a shifted buffer can move by a frame or two; it is the same note.
        return any(p == pitch and abs(s - start) <= 3 for s, p in self._emitted)

"""Audio note sources: a sound file, a video's soundtrack or a microphone, transcribed by basic-pitch."""
from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Iterator

import numpy as np

from pianocam.notes import NoteEvent, NoteSource
from pianocam.notes.resample import Resampler
from pianocam.notes.transcribe import SAMPLE_RATE, Transcriber
from pianocam.sources.base import SourceError

logger = logging.getLogger(__name__)

_END = object()


class TranscribingSource(NoteSource):
    """Runs _blocks() (mono float32 at self.rate) through a Transcriber on its own thread.

    The model runs off the caller's thread, so poll() never stalls the camera loop for a window's
    compute. Onsets are seconds from the first sample; `started` is that sample's wall-clock time.
    Keyword options (hop_frames, onset_threshold, frame_threshold, melodia, threads) go to Transcriber.
    """

    name = "audio"

    def __init__(self, **transcriber_options):
        self.transcriber_options = transcriber_options
        self.rate = SAMPLE_RATE
        self.started: float | None = None
        self.transcriber: Transcriber | None = None
        self._out: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._ended = False

    def open(self) -> "TranscribingSource":
        # The model first: a broken install fails before a microphone starts capturing.
        self.transcriber = Transcriber(**self.transcriber_options)
        self._open_audio()
        self._thread = threading.Thread(target=self._run, name=f"{self.name}-transcribe", daemon=True)
        self._thread.start()
        return self

    def poll(self, timeout: float = 0.0) -> list[NoteEvent] | None:
        if self._ended:
            return None
        items = []
        try:
            items.append(self._out.get(timeout=timeout) if timeout > 0 else self._out.get_nowait())
            while True:
                items.append(self._out.get_nowait())
        except queue.Empty:
            pass
        notes: list[NoteEvent] = []
        for item in items:
            if item is _END:
                self._ended = True
            elif isinstance(item, BaseException):
                self._ended = True
                raise SourceError(f"{self.name}: transcription failed: {item}") from item
            else:
                notes.extend(item)
        # Notes that arrive with the end go out now; the next call says the source has ended.
        return None if self._ended and not notes else notes

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
        self._close_audio()

    def _run(self) -> None:
        try:
            resampler = None
            for block, rate in self._blocks():
                if resampler is None:
                    resampler = Resampler(rate, SAMPLE_RATE)
                self._put(self.transcriber.feed(resampler.feed(block)))
            if resampler is not None:
                self._put(self.transcriber.feed(resampler.feed(np.zeros(0, np.float32), final=True)))
            self._put(self.transcriber.finish())
            self._out.put(_END)
        except Exception as exc:  # handed to the caller by poll()
            logger.exception("%s: transcription stopped", self.name)
            self._out.put(exc)

    def _put(self, notes: list[NoteEvent]) -> None:
        if notes:
            self._out.put(notes)

    def _open_audio(self) -> None:
        raise NotImplementedError

    def _blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        raise NotImplementedError

    def _close_audio(self) -> None:
        pass


class AudioFileSource(TranscribingSource):
    """A wav, flac or mp3 file (soundfile), at full speed or paced like a live performance."""

    def __init__(self, path: str | Path, realtime: bool = False, block_seconds: float = 0.05, **options):
        super().__init__(**options)
        self.path = Path(path)
        self.name = f"audio file {self.path}"
        self.realtime = realtime
        self.block_seconds = block_seconds
        self._file = None

    def _open_audio(self) -> None:
        import soundfile

        try:
            self._file = soundfile.SoundFile(str(self.path))
        except Exception as exc:  # soundfile raises LibsndfileError, or OSError for a missing path
            hint = " (a video's sound: give it with its video suffix, .mp4 .mov .mkv)" if self.path.exists() else ""
            raise SourceError(f"{self.name}: cannot read ({exc}){hint}") from exc
        self.rate = self._file.samplerate
        logger.info("%s: %d Hz, %d channel(s), %.1f s", self.name, self._file.samplerate, self._file.channels,
                    self._file.frames / self._file.samplerate)

    def _chunks(self, size: int) -> Iterator[np.ndarray]:
        """(samples, channels) float32 blocks of about `size` samples until the file ends."""
        while len(block := self._file.read(size, dtype="float32", always_2d=True)):
            yield block

    def _blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        rate = self.rate
        # Unpaced, big blocks; paced, small ones so notes leave as soon as a window completes.
        size = int(rate * self.block_seconds) if self.realtime else rate
        self.started = time.time()
        began, sent = time.monotonic(), 0
        for block in self._chunks(size):
            if self._stop.is_set():
                return
            sent += len(block)
            if self.realtime:
                # A block is "captured" when its last sample has been played.
                self._stop.wait(max(0.0, began + sent / rate - time.monotonic()))
            yield block.mean(axis=1), rate

    def _close_audio(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".m4v", ".webm", ".avi")


def has_soundtrack(path: str | Path) -> bool:
    """Whether a video file carries an audio stream (PyAV; False when it cannot be opened)."""
    import av

    try:
        with av.open(str(path)) as container:
            return bool(container.streams.audio)
    except (av.FFmpegError, OSError):
        return False


class SoundtrackSource(AudioFileSource):
    """The sound of a video file (mp4, mov, mkv, ...), decoded by FFmpeg through PyAV."""

    def __init__(self, path: str | Path, realtime: bool = False, block_seconds: float = 0.05, **options):
        super().__init__(path, realtime, block_seconds, **options)
        self.name = f"soundtrack of {self.path}"

    def _open_audio(self) -> None:
        import av

        try:
            self._file = av.open(str(self.path))
        except (av.FFmpegError, OSError) as exc:
            raise SourceError(f"{self.name}: cannot read ({exc})") from exc
        if not self._file.streams.audio:
            self._file.close()
            self._file = None
            raise SourceError(f"{self.name}: the video has no audio track")
        stream = self._file.streams.audio[0]
        self.rate = stream.rate
        logger.info("%s: %s, %d Hz, %d channel(s)", self.name, stream.codec_context.name, stream.rate,
                    stream.channels)

    def _chunks(self, size: int) -> Iterator[np.ndarray]:
        import av

        # Planar float at the stream's own rate and channels: the same samples soundfile would give.
        resampler = av.AudioResampler(format="fltp", rate=self.rate)
        pending, held = [], 0
        for frame in self._file.decode(audio=0):
            for out in resampler.resample(frame):
                pending.append(out.to_ndarray().T)
                held += out.samples
            if held >= size:
                block = np.concatenate(pending).astype(np.float32)
                pending, held = [], 0
                yield block
        for out in resampler.resample(None):
            pending.append(out.to_ndarray().T)
        if pending:
            yield np.concatenate(pending).astype(np.float32)


def audio_file_source(path: str | Path, **options) -> AudioFileSource:
    """The right reader for a recording: a video's soundtrack by its suffix, else an audio file."""
    cls = SoundtrackSource if Path(path).suffix.lower() in VIDEO_SUFFIXES else AudioFileSource
    return cls(path, **options)


def _sounddevice():
    """Import sounddevice (PortAudio); a module-level hook so tests can stand in for missing hardware."""
    import sounddevice

    return sounddevice


class MicrophoneSource(TranscribingSource):
    """Live capture from a PortAudio input device (sounddevice); device is an index, a name or None for the default."""

    def __init__(self, device: int | str | None = None, samplerate: int | None = None, **options):
        super().__init__(**options)
        self.device = device
        self.name = f"microphone {device if device is not None else '(default input)'}"
        self.samplerate = samplerate
        self.dropped_blocks = 0
        self._blocks_in: queue.Queue = queue.Queue(maxsize=2000)  # ~45 s of 1024-sample blocks at 44.1 kHz
        self._captured = 0
        self._stream = None
        self._origin: float | None = None

    @property
    def monotonic_origin(self) -> float | None:
        """time.monotonic() of the first captured sample (onsets count from it); None until it arrives."""
        return self._origin

    def _open_audio(self) -> None:
        try:
            sd = _sounddevice()
        except OSError as exc:  # sounddevice raises OSError when libportaudio is absent
            raise SourceError(f"{self.name}: PortAudio is not installed (Debian: apt-get install libportaudio2): "
                              f"{exc}") from exc
        try:
            info = sd.query_devices(self.device, kind="input")
        except (ValueError, sd.PortAudioError) as exc:
            raise SourceError(f"{self.name}: no such input device ({exc}); inputs here: {_inputs(sd)}") from exc
        rate = int(self.samplerate or info["default_samplerate"])
        try:
            self._stream = sd.InputStream(device=self.device, channels=1, samplerate=rate, dtype="float32",
                                          callback=self._callback)
            self._stream.start()
        except Exception as exc:
            raise SourceError(f"{self.name} ({info['name']}): cannot start capture at {rate} Hz: {exc}") from exc
        self.rate = rate
        logger.info("%s: capturing from %s at %d Hz", self.name, info["name"], rate)

    def _callback(self, indata, frames, time_info, status) -> None:
        # PortAudio's thread: copy and hand over, nothing else.
        if self.started is None:
            lag = getattr(time_info, "currentTime", 0.0) - getattr(time_info, "inputBufferAdcTime", 0.0)
            lag = lag if 0 < lag < 1 else frames / self.rate
            self.started = time.time() - lag
            self._origin = time.monotonic() - lag
        try:
            self._blocks_in.put_nowait((self._captured, indata[:, 0].copy()))
        except queue.Full:
            self.dropped_blocks += 1
        self._captured += frames

    def _blocks(self) -> Iterator[tuple[np.ndarray, int]]:
        expected = 0
        while not self._stop.is_set():
            try:
                first, block = self._blocks_in.get(timeout=0.1)
            except queue.Empty:
                continue
            if first > expected:  # blocks were dropped: silence keeps the sample clock true
                yield np.zeros(first - expected, np.float32), self.rate
            expected = first + len(block)
            yield block, self.rate

    def _close_audio(self) -> None:
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None


def _inputs(sd) -> str:
    try:
        names = [f"{i}: {d['name']}" for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
    except Exception:
        names = []
    return ", ".join(names) or "none"

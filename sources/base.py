"""The frame-source interface: open, read with a timeout, newest frame wins, close."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """A source that cannot be opened or read; the message says which and why."""


class SourceTimeout(SourceError):
    """No frame arrived within the read timeout."""


@dataclass
class Frame:
    index: int          # position in the source's stream, counting every frame captured
    t: float            # seconds since the source started (stream time for files and scenes)
    captured: float     # wall-clock time.time() of capture
    image: np.ndarray   # BGR uint8, H x W x 3

    @property
    def size(self) -> tuple[int, int]:
        return self.image.shape[1], self.image.shape[0]


class FrameSource:
    """Base for every source. Subclasses implement _open, _grab (one image or None at the end), _close.

    Live sources (cameras, streams) and paced sources (files and scenes played in real time)
    capture on their own thread and keep only the newest frame: a slow consumer skips frames,
    counted in `dropped`, instead of falling behind. Unpaced file sources hand over every frame.
    """

    live = False  # a camera or stream: reopened when it fails, never "ends"

    def __init__(self, name: str, fps: float = 30.0, realtime: bool = True, loop: bool = False,
                 reopen_after: float = 5.0):
        self.name = name
        self.fps = fps
        self.realtime = realtime or self.live
        self.loop = loop
        self.reopen_after = reopen_after
        self.captured = 0
        self.dropped = 0
        self.reopens = 0
        self.online = False
        self.last_error = ""  # why the source last failed to open
        self._latest: Frame | None = None
        self._delivered = -1
        self._ended = False
        self._error: Exception | None = None
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0

    # --- what subclasses provide ---
    def _open(self) -> None:
        raise NotImplementedError

    def _grab(self) -> np.ndarray | None:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def performance(self) -> Path | None:
        """The MIDI file of the notes played in these frames, when the source brings its own (a rendered
        scene's performance.mid); None for a camera, whose notes come from a keyboard, microphone or vision."""
        return None

    def _rewind(self) -> bool:
        """Start again from the beginning; False if this source cannot."""
        self._close()
        self._open()
        return True

    # --- the interface every stage uses ---
    def open(self) -> "FrameSource":
        try:
            self._open()
            self.online = True
        except SourceError as err:
            if not self.live:
                raise
            # A camera missing at boot (late USB enumeration, unplugged) is retried like one that
            # stalls, so the daemon runs on and reports it offline instead of exiting.
            self.last_error = str(err)
            logger.error("%s; will keep trying", err)
        self._t0 = time.monotonic()
        if self.realtime:
            self._thread = threading.Thread(target=self._capture_loop, name=f"capture-{self.name}", daemon=True)
            self._thread.start()
        return self

    @property
    def started_at(self) -> float:
        """time.monotonic() when the source opened: frame.t counts from here."""
        return self._t0

    def read(self, timeout: float = 2.0) -> Frame | None:
        """The newest frame not yet read; None when the source has ended; SourceTimeout if none came."""
        if not self.realtime:
            return self._next_frame()
        with self._cond:
            deadline = time.monotonic() + timeout
            while (self._latest is None or self._latest.index == self._delivered) and not self._ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise SourceTimeout(f"{self.name}: no frame for {timeout:.1f} s")
                self._cond.wait(remaining)
            if self._latest is None or self._latest.index == self._delivered:
                if self._error:
                    raise self._error
                return None
            self._delivered = self._latest.index
            return self._latest

    def close(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)
            if self._thread.is_alive():
                # Still inside a blocking read (a stalled stream): releasing the capture under it
                # can crash the native library; leave it to the process's exit.
                logger.warning("%s: capture thread still reading; not releasing the device under it", self.name)
                self.online = False
                return
        self._close()
        self.online = False

    def __enter__(self) -> "FrameSource":
        return self.open()

    def __exit__(self, *exc) -> None:
        self.close()

    # --- internals ---
    def _next_frame(self) -> Frame | None:
        image = self._grab()
        if image is None and self.loop and self._rewind():
            image = self._grab()
        if image is None:
            return None
        index = self.captured
        self.captured += 1
        t = index / self.fps if not self.live else time.monotonic() - self._t0
        return Frame(index, t, time.time(), image)

    def _capture_loop(self) -> None:
        failing_since = None
        backoff = 0.5
        while not self._stop.is_set():
            try:
                frame = self._next_frame()
            except Exception as err:  # a camera that errors is retried below like one that stalls
                logger.warning("%s: read failed: %s", self.name, err)
                frame = None
                if not self.live:
                    self._error = err if isinstance(err, SourceError) else SourceError(f"{self.name}: {err}")
            if frame is None:
                if not self.live:
                    break
                failing_since = failing_since or time.monotonic()
                if time.monotonic() - failing_since >= self.reopen_after:
                    self._reopen(backoff)
                    backoff = min(backoff * 2, 30.0)
                    failing_since = None
                else:
                    time.sleep(0.05)
                continue
            failing_since = None
            backoff = 0.5
            self.online = True
            with self._cond:
                if self._latest is not None and self._latest.index != self._delivered:
                    self.dropped += 1
                self._latest = frame
                self._cond.notify_all()
            if not self.live:
                # Files and scenes are paced to their frame rate and stay anchored to the start,
                # as a camera's clock would: a capture that fell behind skips frames to catch up.
                next_due = self._t0 + (frame.index + 1) / self.fps
                delay = next_due - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    behind = int(-delay * self.fps)
                    for _ in range(behind):
                        if self._next_frame() is None:
                            break
                        self.dropped += 1
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def _reopen(self, backoff: float) -> None:
        self.online = False
        self.reopens += 1
        logger.warning("%s: no frame for %.0f s; reopening (attempt %d)", self.name, self.reopen_after, self.reopens)
        try:
            self._close()
        except Exception:
            pass
        if self._stop.wait(backoff):
            return
        try:
            self._open()
            self.online = True
            self.last_error = ""
        except Exception as err:
            self.last_error = str(err)
            logger.warning("%s: reopen failed: %s", self.name, err)

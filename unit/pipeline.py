"""Frames → hands → events: the unit's main loop, one stage after another, timed."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import Hands, HandTracker
from pianocam.sources import FrameSource, SourceTimeout
from pianocam.unit.budget import FrameBudget
from pianocam.unit.metrics import StageTimer
from pianocam.unit.played import PlayedNotes
from pianocam.unit.stages import CalibrationStage, Heard, NoteStage, TechniqueStage

logger = logging.getLogger(__name__)


@dataclass
class Progress:
    """What the loop has done so far; handed to the per-second callback."""

    frames: int = 0
    frames_with_hands: int = 0
    frames_with_both: int = 0
    notes: int = 0
    last_hands: Hands | None = None
    elapsed: float = 0.0


class Pipeline:
    """Reads the newest frame, finds hands, and passes them through its stages (calibration, notes, technique),
    handing every result to `emit(kind, body)`.

    queue_depth and queue_dropped report the events waiting to go out and those the journal's bounds
    dropped (the publisher's and the journal's counters), for the metrics.
    """

    def __init__(self, source: FrameSource, tracker: HandTracker, emit: Callable[[str, dict], int],
                 notes: NoteStage | None = None, calibration: CalibrationStage | None = None,
                 technique: TechniqueStage | None = None, budget: FrameBudget | None = None,
                 queue_depth: Callable[[], int] = lambda: 0, queue_dropped: Callable[[], int] = lambda: 0,
                 metrics_interval: float = 5.0, publish_hands: bool = False, read_timeout: float = 2.0):
        self.source = source
        self.tracker = tracker
        self.emit = emit
        self.notes = notes or PlayedNotes(None, FingerAssigner(None))
        self.calibration = calibration
        self.technique = technique
        self.budget = budget or FrameBudget()
        self.queue_depth, self.queue_dropped = queue_depth, queue_dropped
        self.metrics_interval = metrics_interval
        self.publish_hands = publish_hands
        self.read_timeout = read_timeout
        self.timer = StageTimer()
        self.progress = Progress()
        self.timeouts = 0
        self.skipped = 0

    def step(self) -> Hands | None:
        """Process one frame; None when the source has ended."""
        start = time.perf_counter()
        try:
            frame = self.source.read(self.read_timeout)
        except SourceTimeout as err:
            self.timeouts += 1
            logger.warning("%s", err)
            self._publish(Hands(-1, 0.0, 0, 0), self._heard(self.notes.poll(flush=True)), [])
            return Hands(-1, 0.0, 0, 0)
        if frame is None:
            return None
        if self.calibration is not None:
            self.calibration.add_frame(frame.image)
        got = time.perf_counter()
        if not self.budget.keep(time.monotonic()):
            self.skipped += 1   # over the budget: the frame is dropped, notes still go out (fingers from held hands)
            self._publish(Hands(-1, frame.t, 0, 0), self._heard(self.notes.poll()), [])
            return Hands(-1, frame.t, 0, 0)
        self.tracker.follow(self.notes.keymap)  # the keyboard-sized view
        hands = self.tracker.process(frame.image, frame.index, frame.t)
        tracked = time.perf_counter()
        messages = self._heard(self.notes.add_frame(frame.image, hands))
        if self.calibration is not None:
            self.calibration.add_hands(hands)
        assigned = time.perf_counter()
        estimates = self.technique.update(hands) if self.technique is not None else []
        estimated = time.perf_counter()
        self._publish(hands, messages, estimates)
        done = time.perf_counter()
        self.timer.record("capture_wait", got - start)
        self.timer.record("track", tracked - got)
        self.timer.record("fingering", assigned - tracked)
        self.timer.record("technique", estimated - assigned)
        self.timer.record("publish", done - estimated)
        self.timer.record("total", done - got)
        self.timer.frame_done()
        p = self.progress
        p.frames += 1
        p.frames_with_hands += bool(hands.hands)
        p.frames_with_both += len(hands.hands) >= 2
        p.last_hands = hands
        return hands

    def _heard(self, heard: Heard) -> list[dict]:
        """The notes heard go to the calibration (their numbering check); their messages are returned."""
        if heard.notes and self.calibration is not None:
            self.calibration.add_notes(heard.notes, heard.clock_offset)
        self.progress.notes = self.notes.decided
        return heard.messages

    def _publish(self, hands: Hands, notes: list[dict], estimates: list) -> None:
        for body in estimates:
            self.emit("technique", body)
        for body in notes:
            self.emit("note", body)
        if self.publish_hands and hands.frame_index >= 0:
            self.emit("hands", {"frame": hands.frame_index, "t": hands.t, "width": hands.width,
                                "height": hands.height, "hands": [h.to_message() for h in hands.hands]})

    def flush(self) -> None:
        """Decide the notes still waiting for frames (the stream has ended) and publish them."""
        for body in self.notes.flush():
            self.emit("note", body)
        self.progress.notes = self.notes.decided

    def metrics(self) -> dict:
        return {"fps": self.timer.fps(), "frames": self.progress.frames,
                "dropped_frames": self.source.dropped, "read_timeouts": self.timeouts,
                "source_online": self.source.online, "queue_depth": self.queue_depth(),
                "queue_dropped": self.queue_dropped(),
                "latency_ms": self.timer.latency(), "cpu_temperature": self.budget.temperature(),
                "throttled": self.budget.throttled, "skipped_frames": self.skipped,
                "max_fps": self.budget.limit}

    def run(self, stop: threading.Event | None = None, seconds: float | None = None,
            every_second: Callable[[Progress, dict], None] | None = None) -> Progress:
        """Loop until the source ends, stop is set, or seconds have passed."""
        stop = stop or threading.Event()
        began = time.monotonic()
        next_metrics = began + min(1.0, self.metrics_interval)
        next_tick = began + 1.0
        while not stop.is_set():
            now = time.monotonic()
            if seconds is not None and now - began >= seconds:
                break
            if self.step() is None:
                logger.info("source %s ended after %d frames", self.source.name, self.progress.frames)
                break
            now = time.monotonic()
            self.progress.elapsed = now - began
            if now >= next_metrics:
                self.emit("metrics", self.metrics())
                next_metrics = now + self.metrics_interval
            if now >= next_tick:
                session = self.notes.session_update()
                if session is not None:
                    self.emit("session", session)
                if every_second:
                    every_second(self.progress, self.metrics())
                next_tick += 1.0
        self.flush()
        self.emit("session", self.notes.summary())
        self.emit("metrics", self.metrics())
        return self.progress


def run_to_end(pipeline: Pipeline) -> tuple[Progress, float]:
    """Run a pipeline over its whole (unpaced) source, keeping every latency sample; for benchmarks
    and `pianocam profile`. Returns the progress and the seconds it took; closes source and tracker."""
    pipeline.timer = StageTimer(window=1_000_000)
    pipeline.source.open()
    began = time.perf_counter()
    try:
        progress = pipeline.run()
    finally:
        elapsed = time.perf_counter() - began
        pipeline.source.close()
        pipeline.tracker.close()
    return progress, elapsed

"""Frames → hands → events: the unit's main loop, one stage after another, timed."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import Hands, HandTracker
from pianocam.unit.metrics import StageTimer, cpu_temperature
from pianocam.notes import NoteSource
from pianocam.unit.session import Session
from pianocam.sources import FrameSource, SourceTimeout
from pianocam.sources.pacing import FramePacer

logger = logging.getLogger(__name__)


class FrameTask:
    """Something done with a frame's image now and then (a drift check), off the frame loop."""

    def __init__(self, interval: float, action: Callable[[object], None]):
        self.interval = interval
        self.action = action
        self._due = time.monotonic() + interval
        self._thread: threading.Thread | None = None

    def run_soon(self) -> None:
        """Run on the next frame instead of waiting out the interval."""
        self._due = 0.0

    def offer(self, image) -> None:
        if (self.interval <= 0 and self._due) or time.monotonic() < self._due or (self._thread and self._thread.is_alive()):
            return
        self._due = time.monotonic() + self.interval
        self._thread = threading.Thread(target=self.action, args=(image.copy(),), daemon=True)
        self._thread.start()


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
    """Reads the newest frame, finds hands, matches notes to fingertips, and hands every result
    to `emit(kind, body)`."""

    def __init__(self, source: FrameSource, tracker: HandTracker, emit: Callable[[str, dict], int],
                 metrics_interval: float = 5.0, publish_hands: bool = False, read_timeout: float = 2.0,
                 notes: NoteSource | None = None, assigner: FingerAssigner | None = None, technique=None):
        self.source = source
        self.tracker = tracker
        self.emit = emit
        self.notes = notes
        self.technique = technique  # a TechniqueEstimator, or None
        self.assigner = assigner or FingerAssigner(None)
        self.session = Session()
        self._session_dirty = True
        # A practice session (pianocam.practice.live.PracticeSession) adds expected and verdict to each note.
        self.practice = None
        # Called with the first frame's image (and later ones until it returns True), and again
        # after request_calibration().
        self.on_first_frame: Callable[[object], bool] | None = None
        self._calibrate_next = True
        self._calibrate_at = 0.0
        self._calibrate_retry = 0.5
        self.frame_tasks: list[FrameTask] = []
        self.before_notes: Callable[[], None] | None = None  # aligns clocks before notes are matched
        self.numbering_watch = None  # calibration.from_notes.NumberingWatch: notes check the keys' numbering
        self.metrics_interval = metrics_interval
        self.publish_hands = publish_hands
        self.read_timeout = read_timeout
        self.timer = StageTimer()
        self.progress = Progress()
        self.timeouts = 0
        self.queue_depth: Callable[[], int] = lambda: 0
        self.queue_dropped: Callable[[], int] = lambda: 0  # events the journal's bounds dropped
        # Frame budget (tracker.max_fps, tracker.hot_*): frames beyond it are read and skipped, notes still
        # go out; when the SoC is at hot_temperature or above (a Pi 4 throttles its clock at 80 °C) the
        # budget drops to hot_fps until it has cooled 5 °C below.
        self.max_fps, self.hot_temperature, self.hot_fps = 0.0, 80.0, 10.0
        self.throttled = False
        self.skipped = 0
        self._pacer = FramePacer(0.0)
        self._temperature_due = 0.0

    def _frame_budget(self) -> float:
        now = time.monotonic()
        if now >= self._temperature_due:
            self._temperature_due = now + 1.0
            temperature = cpu_temperature()
            hot = temperature is not None and (temperature >= self.hot_temperature or
                                               (self.throttled and temperature > self.hot_temperature - 5.0))
            if hot != self.throttled:
                self.throttled = hot
                logger.warning("SoC at %.0f °C: tracking %s", temperature,
                               f"at most {self.hot_fps:g} frames a second" if hot else "at the full rate again")
        fps = self.hot_fps if self.throttled else self.max_fps
        if self.throttled and self.max_fps:
            fps = min(fps, self.max_fps)
        if fps != self._pacer.fps:
            self._pacer = FramePacer(fps)
        return fps

    def step(self) -> Hands | None:
        """Process one frame; None when the source has ended."""
        start = time.perf_counter()
        try:
            frame = self.source.read(self.read_timeout)
        except SourceTimeout as err:
            self.timeouts += 1
            logger.warning("%s", err)
            # No frames to match them with: notes still go out (fingers unknown) rather than wait.
            self._publish(Hands(-1, 0.0, 0, 0), self._new_fingerings() + self.assigner.flush(), [])
            return Hands(-1, 0.0, 0, 0)
        if frame is None:
            return None
        got = time.perf_counter()
        if self._calibrate_next and self.on_first_frame is not None and time.monotonic() >= self._calibrate_at:
            self._calibrate_next = False
            if not self.on_first_frame(frame.image):
                # Hands over one end of the keyboard, say: try again on a later frame, backing off.
                self._calibrate_next = True
                self._calibrate_at = time.monotonic() + self._calibrate_retry
                self._calibrate_retry = min(self._calibrate_retry * 2, 30.0)
            got = time.perf_counter()
        for task in self.frame_tasks:
            task.offer(frame.image)
        if self._frame_budget() and not self._pacer.keep(time.monotonic()):
            self.skipped += 1   # over the budget: the frame is dropped, notes still go out (fingers from held hands)
            self._publish(Hands(-1, frame.t, 0, 0), self._new_fingerings(), [])
            return Hands(-1, frame.t, 0, 0)
        getattr(self.tracker, "follow", lambda keymap: None)(self.assigner.keymap)  # the keyboard-sized view
        hands = self.tracker.process(frame.image, frame.index, frame.t)
        tracked = time.perf_counter()
        observe = getattr(self.notes, "observe", None)
        if observe is not None:  # vision-only notes come from this very frame
            observe(frame.image, hands)
        fingerings = self.assigner.add_frame(hands) + self._new_fingerings()
        if self.numbering_watch is not None:
            self.numbering_watch.add_frame(hands)
        assigned = time.perf_counter()
        estimates = self.technique.update(hands) if self.technique is not None else []
        estimated = time.perf_counter()
        self._publish(hands, fingerings, estimates)
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

    def _new_fingerings(self) -> list:
        """Poll the note source and hand its notes to the finger assigner."""
        if self.notes is None:
            return []
        new = self.notes.poll(0.0)
        if new is None:
            self.notes = None  # the note source has ended; frames go on
            return []
        if not new:
            return []
        if self.before_notes is not None:
            self.before_notes()
        if self.numbering_watch is not None:
            self.numbering_watch.add_notes(new)
        return self.assigner.add_notes(new)

    def _publish(self, hands: Hands, fingerings: list, estimates: list) -> None:
        for body in estimates:
            self.emit("technique", body)
        for fingering in fingerings:
            self._emit_note(fingering)
        if self.publish_hands and hands.frame_index >= 0:
            self.emit("hands", {"frame": hands.frame_index, "t": hands.t, "width": hands.width,
                                "height": hands.height, "hands": [h.to_message() for h in hands.hands]})

    def _emit_note(self, fingering) -> None:
        message = fingering.to_message()
        for body in self.practice.judge(message) if self.practice is not None else [message]:
            self.emit("note", body)
        self.session.add(fingering)
        self.progress.notes += 1
        self._session_dirty = True

    def request_calibration(self) -> None:
        """Calibrate again on the next frame (cmd/recalibrate)."""
        self._calibrate_next = True
        self._calibrate_at = 0.0
        self._calibrate_retry = 0.5

    def new_session(self, student: str | None = None) -> dict:
        self.session = Session(student=student)
        self._session_dirty = True
        return self.session.summary()

    def end_session(self) -> dict:
        self.session.active = False
        self._session_dirty = True
        return self.session.summary()

    def flush(self) -> None:
        """Decide the notes still waiting for frames (the stream has ended) and publish them."""
        for fingering in self.assigner.flush():
            self._emit_note(fingering)

    def metrics(self) -> dict:
        return {"fps": self.timer.fps(), "frames": self.progress.frames,
                "dropped_frames": self.source.dropped, "read_timeouts": self.timeouts,
                "source_online": self.source.online, "queue_depth": self.queue_depth(),
                "queue_dropped": self.queue_dropped(),
                "latency_ms": self.timer.latency(), "cpu_temperature": cpu_temperature(),
                "throttled": self.throttled, "skipped_frames": self.skipped,
                "max_fps": self.hot_fps if self.throttled else self.max_fps}

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
                if self._session_dirty:
                    self.emit("session", self.session.summary())
                    self._session_dirty = False
                if every_second:
                    every_second(self.progress, self.metrics())
                next_tick += 1.0
        self.flush()
        self.emit("session", self.session.summary())
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

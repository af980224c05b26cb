"""The unit assembled from its config: source, tracker, notes, key map, journal, publisher, pipeline."""
from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path

from pianocam.config import Config
from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import HandTracker
from pianocam.transport.journal import Journal
from pianocam.calibration.keymap import KeyMap
from pianocam.notes import NoteSource
from pianocam.unit.pipeline import FrameTask, Pipeline, Progress
from pianocam.transport.publisher import Publisher
from pianocam.unit.sd_notify import Notifier
from pianocam.sources import FrameSource, open_source

logger = logging.getLogger(__name__)


def open_notes(config: Config, source: FrameSource, assigner: FingerAssigner | None = None) -> NoteSource | None:
    """Build the note source a [notes] config section describes (not yet opened)."""
    c = config.notes
    kind = c.kind
    scene_folder = getattr(source, "folder", None)
    if kind == "auto":
        kind = "scene" if scene_folder is not None else "midi"
    if kind == "none":
        return None
    if kind == "scene":
        from pianocam.notes.midi import MidiFileSource
        period = source.frame_count / source.fps if config.source.loop else None
        return MidiFileSource(Path(scene_folder) / "performance.mid", realtime=config.source.realtime,
                              loop_period=period)
    if kind == "midi-file":
        from pianocam.notes.midi import MidiFileSource
        return MidiFileSource(c.path, realtime=config.source.realtime)
    if kind == "midi":
        from pianocam.notes.midi import LiveMidiSource
        return LiveMidiSource(c.port)
    if kind == "vision":
        from pianocam.notes.vision import VisionNoteSource
        return VisionNoteSource(lambda: assigner.keymap if assigner else None)
    if kind == "audio-file":
        from pianocam.notes.audio import AudioFileSource
        return AudioFileSource(c.path, realtime=config.source.realtime)
    from pianocam.notes.audio import MicrophoneSource
    return MicrophoneSource(c.device or None)


class Unit:
    """Everything `pianocam run` and `pianocam demo` start, in the order data flows."""

    def __init__(self, config: Config, source: FrameSource | None = None):
        self.config = config
        from pianocam.models.runtime import set_execution_provider
        set_execution_provider(config.execution_provider)   # before any model loads
        self.journal = Journal(config.journal_path(), config.journal.max_events,
                               max_age=config.journal.max_age_days * 86400,
                               max_bytes=int(config.journal.max_mb * 2**20))
        self.publisher = Publisher(config, self.journal)
        self.source = source or open_source(config.source)
        self.assigner = FingerAssigner(self._load_keymap())
        # Notes before the tracker: a bad notes file is reported before MediaPipe's threads start
        # (their C++ log lines would otherwise interleave with the one-line error on stderr).
        self.notes = open_notes(config, self.source, self.assigner)
        self.tracker = HandTracker.from_config(config.tracker)
        self.technique, self._technique_state = self._load_technique()
        self.pipeline = Pipeline(self.source, self.tracker, self.publisher.emit,
                                 metrics_interval=config.metrics.interval,
                                 publish_hands=config.mqtt.publish_hands,
                                 read_timeout=config.source.read_timeout,
                                 notes=self.notes, assigner=self.assigner, technique=self.technique)
        self.pipeline.queue_depth = self.publisher.pending
        t = config.tracker
        self.pipeline.max_fps, self.pipeline.hot_temperature, self.pipeline.hot_fps = t.max_fps, t.hot_temperature, t.hot_fps
        self.pipeline.queue_dropped = lambda: self.journal.dropped
        # A microphone's clock is known only once its first sample is in: align on every batch.
        self.pipeline.before_notes = self._align_clocks
        self.pipeline.on_first_frame = self._calibrate_if_needed
        from pianocam.calibration.from_notes import NumberingWatch
        self.pipeline.numbering_watch = NumberingWatch(lambda: self.assigner.keymap, self._renumber_from_notes)
        self.pipeline.frame_tasks.append(FrameTask(config.calibration.drift_interval, self._check_drift))
        self.notifier = Notifier()
        self.stop_event = threading.Event()
        self._source_online: bool | None = None
        self.publisher.on_command("status", self._cmd_status)
        self.publisher.on_command("recalibrate", self._cmd_recalibrate)
        self.publisher.on_command("check_calibration", self._cmd_check_calibration)
        self.publisher.on_command("start_session", self._cmd_start_session)
        self.publisher.on_command("stop_session", self._cmd_stop_session)
        self._recalibrate = threading.Event()
        # (requests so far, fresh): a request that arrives while a map is being made is not lost.
        self._recalibration = (0, False)
        self._recalibration_lock = threading.Lock()
        self._last_calibration_error = ""

    def _load_technique(self):
        """The technique model, or None with the reason: a refused model stops only this stage."""
        c = self.config.technique
        if not c.enabled:
            return None, "disabled"
        from pianocam.models.runtime import ManifestError
        from pianocam.technique.estimator import DEFAULT_MODEL_DIR, TechniqueEstimator

        try:
            estimator = TechniqueEstimator(c.model_dir or DEFAULT_MODEL_DIR, precision=c.precision, stride=c.stride,
                                           fmt=c.format)
        except Exception as err:  # noqa: BLE001 - an optional stage: whatever stops it, the rest runs
            reason = str(err) if isinstance(err, ManifestError) else f"{type(err).__name__}: {err}"
            logger.error("technique model refused: %s; technique estimates are off", reason)
            return None, f"unavailable: {reason}"
        return estimator, "on"

    def _load_keymap(self) -> KeyMap | None:
        path = self.config.keymap_path()
        if not path.exists():
            return None
        try:
            keymap = KeyMap.load(path)
        except (ValueError, KeyError, OSError) as err:
            logger.error("unusable key map %s (%s), mapping afresh from the first frame", path, err)
            return None
        logger.info("key map %s: %d keys", path, len(keymap.keys))
        return keymap

    def _calibrate_if_needed(self, image) -> bool:
        """Map the keys from this frame unless a map is loaded; False asks for another try later."""
        keymap = self.assigner.keymap
        size = (image.shape[1], image.shape[0])
        if keymap is not None and tuple(keymap.image_size) != size:
            logger.error("key map is for %dx%d frames but the camera gives %dx%d: calibrating afresh",
                         *keymap.image_size, *size)
            self.assigner.keymap = None
        elif keymap is not None and not self._recalibrate.is_set():
            self._publish_calibration("ok", keymap)
            return True
        from pianocam.calibration.live import calibrate_frame

        # A recalibration keeps the numbering of the map it replaces (a knocked camera makes
        # calibration.first_c stale), unless asked for a fresh start after moving the camera on purpose.
        with self._recalibration_lock:
            request, fresh = self._recalibration
        previous = None if fresh else self.assigner.keymap
        keymap, error = calibrate_frame(image, self.config.calibration, previous=previous)
        if keymap is None and "which octave" in error and self.assigner.keymap is None:
            # Keys found but not numbered: the notes will number them (calibration.from_notes).
            from pianocam.calibration.from_notes import provisional_keymap
            keymap = provisional_keymap(image)
        if keymap is None:
            if error != self._last_calibration_error:
                kept = self.assigner.keymap is not None
                logger.error("calibration failed: %s; trying again on later frames, %s", error,
                             "keeping the previous key map meanwhile" if kept else "notes go out with fingers "
                             "unknown meanwhile")
                self.publisher.emit("calibration", {"state": "ok" if kept else "missing", "error": error,
                                                    "recalibration": "failed"})
            self._last_calibration_error = error
            return False
        with self._recalibration_lock:
            if self._recalibration[0] == request:  # else asked again meanwhile: map once more
                self._recalibrate.clear()
                self._recalibration = (request, False)
        self._last_calibration_error = ""
        self.assigner.keymap = keymap
        try:
            path = self.config.keymap_path()
            path.parent.mkdir(parents=True, exist_ok=True)
            keymap.save(path)
        except OSError as err:
            logger.warning("cannot save the key map: %s", err)
        self._publish_calibration("ok", keymap)
        return True

    def _publish_calibration(self, state: str, keymap: KeyMap, **drift) -> None:
        midis = keymap.midis
        self.publisher.emit("calibration", {"state": state, "keys": len(midis), "partial": keymap.partial,
                                            "lowest": keymap.keys[0].name if keymap.keys else None,
                                            "highest": keymap.keys[-1].name if keymap.keys else None,
                                            "method": keymap.method, "numbering": keymap.numbered_by,
                                            **drift})

    def _renumber_from_notes(self, shift: int, verdict) -> None:
        """The notes say the keys are numbered `shift` semitones off: renumber, or remap after a knock."""
        from pianocam.calibration.from_notes import renumber

        keymap = self.assigner.keymap
        if keymap is None:
            return
        if shift % 12:
            logger.warning("the notes played say the key map is %+d semitones off (%d of %d notes): the camera "
                           "has moved; mapping the keys again", shift, verdict.votes[shift], verdict.notes)
            self.pipeline.request_calibration()
            with self._recalibration_lock:
                self._recalibration = (self._recalibration[0] + 1, False)
                self._recalibrate.set()
            return
        keymap = renumber(keymap, shift)
        logger.info("numbered from the notes: %+d semitones (%d of %d notes agree)", shift,
                    verdict.votes[shift], verdict.notes)
        self.assigner.keymap = keymap
        try:
            keymap.save(self.config.keymap_path())
        except OSError as err:
            logger.warning("cannot save the key map: %s", err)
        self._publish_calibration("ok", keymap, notes_used=verdict.notes)

    def _check_drift(self, image) -> None:
        """Has the camera been knocked? Publish ok or drifted with the error in key widths."""
        from pianocam.calibration.drift import check_drift

        keymap = self.assigner.keymap
        if keymap is None:
            return
        result = check_drift(keymap, image)
        if result["state"] == "unknown":  # hands over the keys: keep the last verdict
            logger.info("drift check inconclusive: %s", result["reason"])
            return
        if result["state"] == "drifted":
            logger.warning("camera has moved since calibration: %s; send cmd/recalibrate", result["reason"])
        self._publish_calibration(result["state"], keymap,
                                  mean_error_key_widths=result["mean_error_key_widths"],
                                  keys_seen=result["keys_seen"], reason=result["reason"])

    def run(self, seconds: float | None = None, every_second=None, handle_signals: bool = True) -> Progress:
        if self.config.unit_id in ("raspberrypi", "localhost", "debian", "ubuntu", "jetson"):
            # Units imaged from one card share this name: their topics, client ids and seq collide.
            logger.warning("unit_id %r is a stock hostname; give each unit its own (unit_id in the config)",
                           self.config.unit_id)
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop_event.set())
        self.publisher.emit("status", {"room": self.config.room, "source": "starting",
                                       "source_kind": self.config.source.kind,
                                       "notes": self.notes.name if self.notes else None,
                                       "technique": self._technique_state})
        self.publisher.start()

        def tick(progress, metrics):
            self.notifier.watchdog()
            self._report_source()
            self.publisher.check_health()
            if every_second:
                every_second(progress, metrics)

        try:  # whatever fails from here, close() stops the capture threads that did start
            self.source.open()
            self._open_notes()
            self.notifier.ready(f"running: source {self.source.name}")
            return self.pipeline.run(self.stop_event, seconds=seconds, every_second=tick)
        finally:
            self.close()

    def _open_notes(self) -> None:
        """Open the note source; a model that will not load turns only the notes stage off."""
        if self.notes is None:
            return
        from pianocam.notes.transcribe import NoteModelError

        try:
            self.notes.open()
        except NoteModelError as err:
            logger.error("notes stage disabled: %s", err)
            self.notes.close()
            self.notes = self.pipeline.notes = None
            self.publisher.emit("status", {"notes": f"unavailable: {err}"})
            return
        start_at = getattr(self.notes, "start_at", None)
        if start_at is not None and self.source.realtime:
            start_at(self.source.started_at)

    def _align_clocks(self) -> None:
        """Put note onsets on the frame clock (frame.t counts from the source's opening instant t0).

        Files and scenes replayed in real time start together: the MIDI replay is started at the
        instant the video started, so both count from zero, as do vision notes (made from frames).
        A source with a clock of its own says where its onset 0 lies on time.monotonic() (live
        MIDI: 0, onsets are arrival times; a microphone: its first sample), so a note at onset o
        happened at origin + o, which a frame shows at t = origin + o - t0 + camera_latency (a live
        frame is stamped when it arrives, camera_latency after the moment it shows).
        """
        origin = self.notes.monotonic_origin if self.notes is not None else None
        if origin is None:
            self.assigner.clock_offset = self.pipeline.numbering_watch.clock_offset = 0.0
            return
        latency = self.config.notes.camera_latency if self.source.live else 0.0
        self.assigner.clock_offset = self.source.started_at - origin - latency
        self.pipeline.numbering_watch.clock_offset = self.assigner.clock_offset

    def _report_source(self) -> None:
        """Publish the source's state when it changes (a stalled camera goes offline until reopened)."""
        online = self.source.online
        if online != self._source_online:
            self._source_online = online
            if not online:
                logger.warning("source %s is offline; reopening", self.source.name)
            self.publisher.emit("status", {"source": "online" if online else "offline",
                                           "source_reopens": self.source.reopens})

    def _cmd_status(self, name: str, request: dict) -> dict:
        return {"metrics": self.pipeline.metrics(), "journal_backlog": self.publisher.pending(),
                "session": self.pipeline.session.summary()}

    def _cmd_recalibrate(self, name: str, request: dict) -> dict:
        """Map the keys afresh from the next frame; {"fresh": true} forgets the old map's numbering."""
        fresh = request.get("fresh", False)
        if not isinstance(fresh, bool):
            raise ValueError("'fresh' must be true or false")
        with self._recalibration_lock:
            count, pending_fresh = self._recalibration
            # A plain request does not cancel a fresh one still waiting.
            self._recalibration = (count + 1, fresh or (pending_fresh and self._recalibrate.is_set()))
            self._recalibrate.set()
        self.pipeline.request_calibration()
        return {"queued": True}

    def _cmd_check_calibration(self, name: str, request: dict) -> dict:
        """Check for drift on the next frame instead of waiting for the interval."""
        for task in self.pipeline.frame_tasks:
            task.run_soon()
        return {"queued": True}

    def _cmd_start_session(self, name: str, request: dict) -> dict:
        """A new session; with {"exercise": NAME} or {"score": PATH} (tempo, hands, passage) a practice one."""
        from pianocam.practice.live import PracticeSession

        student = request.get("student")
        if student is not None and not (isinstance(student, str) and 0 < len(student.strip()) <= 64):
            raise ValueError("'student' must be a name of 1 to 64 characters")
        practice = PracticeSession.from_request(request)  # a bad request is refused before anything changes
        self._finish_practice()
        self.pipeline.new_session(student=student.strip() if student else None)
        self.pipeline.practice = self.pipeline.session.practice = practice
        return {"session": self.pipeline.session.summary()}

    def _cmd_stop_session(self, name: str, request: dict) -> dict:
        report = self._finish_practice()
        return {"session": self.pipeline.end_session(), **({"report": report} if report else {})}

    def _finish_practice(self) -> dict | None:
        """End the practice session: its missed notes, then `report` and `skill` go out."""
        practice, self.pipeline.practice = self.pipeline.practice, None
        if practice is None:
            return None
        from pianocam.practice.live import skill_message

        missed, report = practice.finish()
        for body in missed:
            self.publisher.emit("note", body)
        self.publisher.emit("report", report)
        self.publisher.emit("skill", skill_message(report))
        return report

    def close(self) -> None:
        """Flush, say offline, close the sources: what SIGTERM leads to."""
        self.notifier.stopping()
        self._finish_practice()  # a practice session cut short still gets its report
        self.source.close()
        if self.notes is not None:
            self.notes.close()
        self.publisher.stop()
        self.tracker.close()
        self.journal.close()

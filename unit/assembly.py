"""The unit assembled from its config: source, tracker, notes, key map, journal, publisher, pipeline."""
from __future__ import annotations

import logging
import signal
import threading

from pianocam.calibration.keymap import KeyMap
from pianocam.calibration.live import LiveCalibration
from pianocam.config import Config
from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import HandTracker
from pianocam.notes import NoteSource
from pianocam.sources import FrameSource, SourceError, open_source
from pianocam.transport.journal import Journal
from pianocam.transport.publisher import Publisher
from pianocam.unit.budget import FrameBudget
from pianocam.unit.pipeline import Pipeline, Progress
from pianocam.unit.played import PlayedNotes
from pianocam.unit.sd_notify import Notifier

logger = logging.getLogger(__name__)


def open_notes(config: Config, source: FrameSource, assigner: FingerAssigner | None = None) -> NoteSource | None:
    """Build the note source a [notes] config section describes (not yet opened)."""
    c = config.notes
    kind = c.kind
    performance = source.performance()
    if kind == "auto":
        kind = "scene" if performance is not None else "midi"
    if kind == "none":
        return None
    if kind == "scene":
        if performance is None:
            raise SourceError(f"notes.kind = 'scene': source {source.name} brings no notes of its own (only a "
                              f"rendered scene does); choose auto, midi, midi-file, audio-file, microphone or vision")
        from pianocam.notes.midi import MidiFileSource
        period = source.frame_count / source.fps if config.source.loop else None
        return MidiFileSource(performance, realtime=config.source.realtime, loop_period=period)
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
        keymap = self.load_keymap()
        self.assigner = FingerAssigner(keymap)
        # Notes before the tracker: a bad notes file is reported before MediaPipe's threads start
        # (their C++ log lines would otherwise interleave with the one-line error on stderr).
        self.played = PlayedNotes(open_notes(config, self.source, self.assigner), self.assigner, frames=self.source,
                                  camera_latency=config.notes.camera_latency)
        self.tracker = HandTracker.from_config(config.tracker)
        self.technique, self.technique_state = self.load_technique()
        self.calibration = LiveCalibration(config.calibration, config.keymap_path(), self.publisher.emit, keymap,
                                           on_keymap=self.played.use_keymap)
        self.pipeline = Pipeline(self.source, self.tracker, self.publisher.emit, notes=self.played,
                                 calibration=self.calibration, technique=self.technique,
                                 budget=FrameBudget.from_config(config.tracker),
                                 queue_depth=self.publisher.pending, queue_dropped=lambda: self.journal.dropped,
                                 metrics_interval=config.metrics.interval,
                                 publish_hands=config.mqtt.publish_hands,
                                 read_timeout=config.source.read_timeout)
        self.notifier = Notifier()
        self.stop_event = threading.Event()
        self._source_online: bool | None = None
        self._source_reopens = 0
        self.publisher.on_command("status", self._cmd_status)
        self.publisher.on_command("recalibrate", self._cmd_recalibrate)
        self.publisher.on_command("check_calibration", self._cmd_check_calibration)
        self.publisher.on_command("start_session", self._cmd_start_session)
        self.publisher.on_command("stop_session", self._cmd_stop_session)

    def load_technique(self):
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

    def load_keymap(self) -> KeyMap | None:
        """The saved key map, or None (logged) when it is missing or unusable: the unit then maps afresh."""
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
                                       "notes": self.played.source.name if self.played.source else None,
                                       "technique": self.technique_state})
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
        refused = self.played.open()
        if refused is not None:
            logger.error("notes stage disabled: %s", refused)
            self.publisher.emit("status", {"notes": f"unavailable: {refused}"})

    def _report_source(self) -> None:
        """Publish the source's state when it changes (a stalled camera goes offline until reopened)."""
        online, reopens = self.source.online, self.source.reopens
        if online and self._source_online and reopens != self._source_reopens:
            # Stalled and reopened between two looks (a reopen can take less than the second between them):
            # the outage is said all the same, then the recovery below.
            logger.warning("source %s was offline and has been reopened", self.source.name)
            self.publisher.emit("status", {"source": "offline", "source_reopens": reopens})
            self._source_online = False
        self._source_reopens = reopens
        if online != self._source_online:
            self._source_online = online
            if not online:
                logger.warning("source %s is offline; reopening", self.source.name)
            self.publisher.emit("status", {"source": "online" if online else "offline",
                                           "source_reopens": reopens})

    def _cmd_status(self, name: str, request: dict) -> dict:
        return {"metrics": self.pipeline.metrics(), "journal_backlog": self.publisher.pending(),
                "session": self.played.summary()}

    def _cmd_recalibrate(self, name: str, request: dict) -> dict:
        """Map the keys afresh from the next frame; {"fresh": true} forgets the old map's numbering."""
        fresh = request.get("fresh", False)
        if not isinstance(fresh, bool):
            raise ValueError("'fresh' must be true or false")
        self.calibration.request(fresh)
        return {"queued": True}

    def _cmd_check_calibration(self, name: str, request: dict) -> dict:
        """Check for drift on the next frame instead of waiting for the interval."""
        self.calibration.check_soon()
        return {"queued": True}

    def _cmd_start_session(self, name: str, request: dict) -> dict:
        """A new session; with {"exercise": NAME} or {"score": PATH} (tempo, hands, passage) a practice one."""
        from pianocam.practice.live import PracticeSession

        student = request.get("student")
        if student is not None and not (isinstance(student, str) and 0 < len(student.strip()) <= 64):
            raise ValueError("'student' must be a name of 1 to 64 characters")
        practice = PracticeSession.from_request(request)  # a bad request is refused before anything changes
        self._finish_practice()
        return {"session": self.played.new_session(student.strip() if student else None, practice)}

    def _cmd_stop_session(self, name: str, request: dict) -> dict:
        report = self._finish_practice()
        return {"session": self.played.end_session(), **({"report": report} if report else {})}

    def _finish_practice(self) -> dict | None:
        """End the practice session: its missed notes, then `report` and `skill` go out."""
        finished = self.played.finish_practice()
        if finished is None:
            return None
        from pianocam.practice.live import skill_message

        missed, report = finished
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
        self.played.close()
        self.publisher.stop()
        self.tracker.close()
        self.journal.close()

"""The unit assembled from its config: source, tracker, journal, publisher, pipeline."""
from __future__ import annotations

import logging
import signal
import threading

from .config import Config
from .hands import HandTracker
from .journal import Journal
from .pipeline import Pipeline, Progress
from .publisher import Publisher
from .sd_notify import Notifier
from .sources import open_source

logger = logging.getLogger(__name__)


class Unit:
    """Everything `pianocam run` and `pianocam demo` start, in the order data flows."""

    def __init__(self, config: Config, source: FrameSource | None = None):
        self.config = config
        self.journal = Journal(config.journal_path(), config.journal.max_events)
        self.publisher = Publisher(config, self.journal)
        self.source = source or open_source(config.source)
        self.tracker = HandTracker.from_config(config.tracker)
        self.pipeline = Pipeline(self.source, self.tracker, self.publisher.emit,
                                 metrics_interval=config.metrics.interval,
                                 publish_hands=config.mqtt.publish_hands,
                                 read_timeout=config.source.read_timeout)
        self.pipeline.queue_depth = self.publisher.pending
        self.notifier = Notifier()
        self.stop_event = threading.Event()
        self._source_online: bool | None = None
        self.publisher.on_command("status", self._cmd_status)

    def run(self, seconds: float | None = None, every_second=None, handle_signals: bool = True) -> Progress:
        if handle_signals and threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop_event.set())
        self.publisher.emit("status", {"room": self.config.room, "source": "starting",
                                       "source_kind": self.config.source.kind})
        self.publisher.start()
        self.source.open()
        self.notifier.ready(f"running: source {self.source.name}")

        def tick(progress, metrics):
            self.notifier.watchdog()
            self._report_source()
            if every_second:
                every_second(progress, metrics)

        try:
            return self.pipeline.run(self.stop_event, seconds=seconds, every_second=tick)
        finally:
            self.close()

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
        return {"metrics": self.pipeline.metrics(), "journal_backlog": self.publisher.pending()}

    def close(self) -> None:
        """Flush, say offline, close the source: what SIGTERM leads to."""
        self.notifier.stopping()
        self.source.close()
        self.publisher.stop()
        self.tracker.close()
        self.journal.close()

"""Journalled events to the broker: in order, a bounded number unacknowledged, each acknowledgement back to the journal."""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable

from pianocam.transport.journal import Entry, Journal
from pianocam.transport.mqtt import MqttClient

logger = logging.getLogger(__name__)

# Journalled events handed to paho but not yet acknowledged; beyond this the sender waits,
# so a slow broker cannot make paho's own queue grow without bound.
MAX_IN_FLIGHT = 500
# Events waiting while connected and none acknowledged for this long: the sender has stopped.
STALL_SECONDS = 30.0


class Outbox:
    """The sender thread: hands journalled events to paho in order and counts their acknowledgements.

    after_connect() runs on this thread after each (re)connect, before the journal resumes: paho
    resends what it still holds from before the drop right after connecting, so state republished
    from here goes out after those and stale state cannot win."""

    def __init__(self, journal: Journal, mqtt: MqttClient, after_connect: Callable[[], None] = lambda: None):
        self.journal = journal
        self.mqtt = mqtt
        self.after_connect = after_connect
        self.acknowledged = 0
        self.stalled = False
        self._lock = threading.Lock()
        self._in_flight = 0  # journalled events handed to paho, not yet acknowledged
        self._sent_upto = 0  # the last journalled seq handed to paho in this process
        self._progress = (0, time.monotonic())  # (acknowledged, when it last moved)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        # The connection after_connect() last ran for: read from the client's count, which moves
        # before it says connected, so the journal can never go out ahead of the announcement.
        self._announced = 0
        self._sender = threading.Thread(target=self._send_journal, name="mqtt-sender", daemon=True)
        mqtt.when_connected(self._on_connected)

    def start(self) -> None:
        self._sender.start()

    def put(self, entry: Entry) -> None:
        """Journal one event (durable before it is sent) and wake the sender."""
        self.journal.append(entry)
        self._wake.set()

    def drain(self, deadline: float) -> None:
        """Wait, while connected, until the journal is delivered or the deadline (time.monotonic()) passes."""
        while self.mqtt.connected and len(self.journal) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop handing events over; call join() once the client is disconnected."""
        self._stopping.set()
        self._wake.set()

    def join(self, timeout: float = 2.0) -> None:
        if self._sender.is_alive():
            self._sender.join(timeout=timeout)

    def watch(self) -> bool:
        """The watchdog, called once a second: True when the sender just stalled or moved again.

        Stalled: events waiting while connected and none acknowledged for STALL_SECONDS, or the
        sender thread gone while connected."""
        acknowledged, since = self._progress
        now = time.monotonic()
        if self.acknowledged != acknowledged or not self.mqtt.connected or not len(self.journal):
            self._progress = (self.acknowledged, now)
            since = now
        stalled = (now - since > STALL_SECONDS) or (self.mqtt.connected and not self._sender.is_alive())
        if stalled and not self.stalled:
            logger.error("MQTT sender stalled: %d events waiting while connected, none acknowledged for %.0f s",
                         len(self.journal), now - since)
        elif self.stalled and not stalled:
            logger.warning("MQTT sender moving again")
        changed, self.stalled = stalled != self.stalled, stalled
        return changed

    def _on_connected(self) -> None:  # paho's thread: no sending from here
        self._wake.set()

    def _delivered(self, seq: int) -> None:
        with self._lock:
            self._in_flight -= 1
        self.journal.acknowledge(seq)
        self.acknowledged += 1
        self._wake.set()

    def _send_journal(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(timeout=0.5)
            self._wake.clear()
            try:
                self._send_once()
            except Exception:  # the sender must outlive anything paho throws at it
                logger.exception("MQTT sender: unexpected error; carrying on")
                time.sleep(0.5)

    def _send_once(self) -> None:
        if not self.mqtt.connected:
            return
        if self._announced != self.mqtt.connections:
            self._announced = self.mqtt.connections
            self.after_connect()
        room = MAX_IN_FLIGHT - self._in_flight
        if room <= 0:
            return
        # paho keeps and re-sends whatever it was handed across reconnects, so each entry is
        # handed over once per process; a restarted process replays the whole journal.
        for entry in self.journal.pending(after=self._sent_upto, limit=room):
            if not self.mqtt.connected:
                break
            if self.journal.claim(entry.seq):  # else dropped by the journal's bounds since read, and counted
                self._hand_over(entry)
            self._sent_upto = entry.seq

    def _hand_over(self, entry: Entry) -> None:
        with self._lock:
            self._in_flight += 1
        handed = False
        try:
            handed = self.mqtt.publish(entry.topic, entry.payload, entry.qos, entry.retained,
                                       delivered=lambda: self._delivered(entry.seq))
        finally:
            if not handed:  # no acknowledgement will come for it
                with self._lock:
                    self._in_flight -= 1

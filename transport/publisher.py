"""What the unit's stages see of MQTT: emit a message, answer a command, start, stop, the watchdog."""
from __future__ import annotations

import logging
import time

from pianocam.config import Config
from pianocam.transport.commands import CommandRouter, Handler
from pianocam.transport.home_assistant import discovery
from pianocam.transport.journal import Entry, Journal
from pianocam.transport.messages import ROUTES, TopicError, command_filter, encode, envelope, topic_for
from pianocam.transport.mqtt import MqttClient
from pianocam.transport.outbox import Outbox
from pianocam.transport.state import RetainedState

logger = logging.getLogger(__name__)


class Publisher:
    """Stages call `emit(kind, body)`: events go through the journal (outbox), state is retained (state),
    commands are answered (commands), all over the one client (mqtt)."""

    def __init__(self, config: Config, journal: Journal, client_id: str | None = None, announce: bool = True):
        self.config = config
        self.journal = journal
        self.unit_id = config.unit_id
        self.base = config.mqtt.base_topic
        # A probe (`pianocam doctor`) connects without announcing itself, so the unit's status is untouched.
        self.announce = announce
        self.disk_full = False  # last seen from the journal, said in status when it changes
        self._status: dict = {}  # fields shown beside state=online (room, source state, ...)
        will = None
        if announce:
            will = (self.topic("status"), encode(envelope(self.unit_id, journal.next_seq(), {"state": "offline"})))
        self.mqtt = MqttClient(config.mqtt, client_id or f"pianocam-{self.unit_id}", will)
        self.state = RetainedState(self.mqtt, self.topic)
        self.outbox = Outbox(journal, self.mqtt, after_connect=self._announce)
        self.commands = CommandRouter()

    def topic(self, kind: str) -> str:
        return topic_for(self.base, self.unit_id, kind)

    @property
    def connected(self) -> bool:
        return self.mqtt.connected

    @property
    def last_error(self) -> str:
        return self.mqtt.last_error

    @property
    def sent(self) -> int:
        return self.mqtt.sent

    @property
    def acknowledged(self) -> int:
        return self.outbox.acknowledged

    @property
    def sender_stalled(self) -> bool:
        return self.outbox.stalled

    def start(self) -> None:
        """Connect in the background; the unit runs (and journals) with no broker at all."""
        self.mqtt.start()
        self.outbox.start()

    def emit(self, kind: str, body: dict) -> int:
        """Publish one message of a kind from messages.ROUTES; returns its seq.

        A `status` body updates the fields published beside state=online; the state itself
        is the publisher's to say (online on connect, offline at stop or by the last will).
        """
        route = ROUTES[kind]
        if kind == "status":
            self._status.update({k: v for k, v in body.items() if k != "state"})
            body = self._online()
        elif kind == "metrics":
            body = {**body, "disk_full": self.journal.disk_full, "sender_stalled": self.sender_stalled}
        seq = self.journal.next_seq()
        payload = encode(envelope(self.unit_id, seq, body))
        if route.journalled:
            self.outbox.put(Entry(seq, self.topic(kind), payload, route.qos, route.retained))
        elif route.retained:
            self.state.keep(kind, payload)
        elif self.connected:
            self.mqtt.publish(self.topic(kind), payload, route.qos, False)
        return seq

    def on_command(self, name: str, handler: Handler) -> None:
        """Answer `cmd/<name>` requests with handler(name, request); once any is registered, an
        unknown `cmd/<other>` gets an error answer too."""
        first = not self.commands
        self.commands.register(name, handler)
        if first:
            self.mqtt.subscribe(command_filter(self.base, self.unit_id), self._answer)

    def pending(self) -> int:
        return len(self.journal)

    def check_health(self) -> list[str]:
        """The watchdog, called once a second: a full disk, or a sender that stopped (outbox.watch).
        A change goes out in status; returns the conditions now."""
        changed = self.outbox.watch()
        changed |= self.journal.disk_full != self.disk_full
        self.disk_full = self.journal.disk_full
        if changed and self.announce:
            self.emit("status", {})
        return self._online()["conditions"]

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what can be delivered within timeout, say offline, and disconnect."""
        deadline = time.monotonic() + timeout
        self.outbox.drain(deadline)
        self.outbox.stop()
        farewell = None
        if self.connected:
            offline = envelope(self.unit_id, self.journal.next_seq(), {"state": "offline"})
            farewell = (self.topic("status"), encode(offline))
        self.mqtt.stop(farewell, timeout=deadline - time.monotonic())
        self.outbox.join()

    def disconnect_quietly(self) -> None:
        """Leave without a status message: for probes that never announced themselves."""
        self.outbox.stop()
        self.mqtt.stop()

    def _online(self) -> dict:
        conditions = [name for name, on in (("disk full", self.journal.disk_full),
                                            ("sender stalled", self.sender_stalled)) if on]
        return {"state": "online", **self._status, "conditions": conditions}

    def _announce(self) -> None:
        """After each (re)connect, on the sender's thread: status online, Home Assistant discovery, the rest."""
        if not self.announce:
            return
        online = envelope(self.unit_id, self.journal.next_seq(), self._online())
        self.mqtt.publish(self.topic("status"), encode(online), 1, True)
        if self.config.mqtt.home_assistant:  # off by default: a student's home, not a school
            for topic, entity in discovery(self.base, self.unit_id, self._status.get("room") or ""):
                self.mqtt.publish(topic, encode(entity), 1, True)
        self.state.republish(skip=("status",))  # status was just published afresh

    def _answer(self, topic: str, payload: bytes) -> None:
        """One response on cmd/<name>/response for each request (paho's thread)."""
        name = topic.rsplit("/", 1)[-1]
        try:
            response_topic = self.topic(f"cmd/{name}/response")
        except TopicError:  # cmd/ with an empty name: nowhere to answer
            logger.warning("ignoring a command on %s: no name to answer on", topic)
            return
        body = self.commands.answer(name, payload)
        self.mqtt.publish(response_topic, encode(envelope(self.unit_id, self.journal.next_seq(), body)), 1, False)

"""The unit's retained state (status, session, metrics, calibration): the newest of each, sent once per connection."""
from __future__ import annotations

import threading

from pianocam.transport.messages import ROUTES
from pianocam.transport.mqtt import MqttClient


class RetainedState:
    """The newest payload of each retained kind; republished after every reconnect.

    Each payload remembers the connection it last went out on, so a subscriber never sees one seq
    twice on a steady link, however an emit and a reconnect interleave."""

    def __init__(self, mqtt: MqttClient, topic_for_kind):
        self.mqtt = mqtt
        self.topic = topic_for_kind
        self._latest: dict[str, tuple[bytes, int]] = {}  # kind -> (payload, connection it went out on)
        self._lock = threading.Lock()

    def keep(self, kind: str, payload: bytes) -> None:
        """The newest of its kind: out now if connected, else at the next connect."""
        with self._lock:
            connection = self.mqtt.connections if self.mqtt.connected else -1
            self._latest[kind] = (payload, connection)
            if connection >= 0:
                self.mqtt.publish(self.topic(kind), payload, ROUTES[kind].qos, True)

    def republish(self, skip: tuple[str, ...] = ()) -> None:
        """Send what has not gone out on this connection yet (kinds in skip were just sent afresh)."""
        with self._lock:
            current = self.mqtt.connections  # read once: a reconnect meanwhile asks for its own round
            for kind, (payload, connection) in self._latest.items():
                if kind not in skip and connection != current:
                    self.mqtt.publish(self.topic(kind), payload, ROUTES[kind].qos, True)
                    self._latest[kind] = (payload, current)

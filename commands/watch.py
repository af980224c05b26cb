"""A subscriber to one unit's (or every unit's) topics: `pianocam demo --json` echoes through it, tests listen with it."""
from __future__ import annotations

import threading
from typing import Callable

import paho.mqtt.client as mqtt

from pianocam.transport.messages import decode


class Watcher:
    """Subscribes to `<base>/<unit_id>/#` and calls on_message(topic, payload) with each decoded payload."""

    def __init__(self, host: str, port: int, base: str = "pianocam", unit_id: str = "+",
                 on_message: Callable[[str, dict], None] | None = None):
        self.host, self.port = host, port
        self.pattern = f"{base}/{unit_id}/#"
        self.on_message = on_message or (lambda topic, payload: None)
        self._subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self._client.reconnect_delay_set(min_delay=1, max_delay=5)
        self._client.suppress_exceptions = True  # an on_message that raises must not end the watch
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.on_message = self._on_message

    def start(self, timeout: float = 5.0) -> bool:
        """Connect and subscribe; True once the subscription stands."""
        self._client.connect_async(self.host, self.port, keepalive=30)
        self._client.loop_start()
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            client.subscribe(self.pattern, qos=1)

    def _on_message(self, client, userdata, message):
        try:
            payload = decode(message.payload)
        except (ValueError, RecursionError):  # it sees cmd/# too: anyone's payload, however deep
            payload = {"raw": message.payload[:200].decode(errors="replace")}
        self.on_message(message.topic, payload)

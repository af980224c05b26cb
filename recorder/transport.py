"""The recorder's only MQTT code: a persistent MQTT 5 session, QoS 1, acknowledged once the rows are committed."""
from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from pianocam.transport.messages import decode

logger = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600  # the broker keeps our queue through a week's outage of the recorder
RECEIVE_MAXIMUM = 1000  # messages the broker may have in flight to us, unacknowledged
BATCH = 500  # rows per transaction at most


def topics(base: str, kinds: tuple[str, ...], group: str | None) -> list[str]:
    """One filter per kind; with a group, MQTT 5 shared subscriptions so recorders split the load."""
    prefix = f"$share/{group}/" if group else ""
    return [f"{prefix}{base}/+/{kind}" for kind in kinds]


class Subscriber:
    """Hands batches of (topic, payload) to `write` on its own thread and acknowledges each message only
    after `write` returns: the broker re-sends whatever a crash or a lost link left unacknowledged."""

    def __init__(self, host: str, port: int, client_id: str, filters: list[str],
                 write: Callable[[list[tuple[str, dict]]], None], username: str = "", password: str = ""):
        self.host, self.port, self.filters, self.write = host, port, filters, write
        self.received = 0
        self.written = 0
        self._queue: queue.Queue = queue.Queue()
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                                   protocol=mqtt.MQTTv5, manual_ack=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=10)
        if username:
            self._client.username_pw_set(username, password or None)
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self._writer = threading.Thread(target=self._write_loop, name="recorder-writer", daemon=True)

    def start(self, timeout: float = 10.0) -> bool:
        """Connect (retrying in the background) and start writing; True once subscribed."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY_S
        properties.ReceiveMaximum = RECEIVE_MAXIMUM
        self._client.connect_async(self.host, self.port, keepalive=30, clean_start=False, properties=properties)
        self._client.loop_start()
        self._writer.start()
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        """Write what has arrived, acknowledge it, and leave; the session (and its queue) stays on the broker."""
        self._stopping.set()
        self._writer.join(timeout=30)
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            logger.error("broker %s:%s refused the recorder: %s", self.host, self.port, reason_code)
            return
        logger.info("recorder connected to %s:%s (session %s)", self.host, self.port,
                    "resumed" if flags.session_present else "new")
        # Subscribing again on a resumed session is harmless; retained state comes again and is de-duplicated.
        client.subscribe([(f, SubscribeOptions(qos=1)) for f in self.filters])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        refused = [str(rc) for rc in reason_codes if rc.is_failure]
        if refused:
            logger.error("broker refused the subscription: %s", ", ".join(refused))
        else:
            logger.info("recorder subscribed to %s", " ".join(self.filters))
            self._subscribed.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if not self._stopping.is_set():
            logger.warning("recorder lost the broker (%s); it re-sends what we did not acknowledge", reason_code)

    def _on_message(self, client, userdata, message):
        self.received += 1
        self._queue.put(message)

    def _write_loop(self) -> None:
        while True:
            try:
                batch = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                if self._stopping.is_set():
                    return
                continue
            while len(batch) < BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            rows = []
            for message in batch:
                try:
                    rows.append((message.topic, decode(message.payload)))
                except ValueError:
                    logger.warning("not JSON on %s; dropped", message.topic)
            while True:
                try:
                    self.write(rows)
                    break
                except Exception:  # the database is away: keep the batch, acknowledge nothing, try again
                    logger.exception("recorder: writing %d messages failed; retrying in 2 s", len(rows))
                    time.sleep(2)
            self.written += len(batch)
            for message in batch:
                if message.qos > 0:
                    self._client.ack(message.mid, message.qos)

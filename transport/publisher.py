"""The only module that touches MQTT: journals events, delivers them, keeps retained state alive."""
from __future__ import annotations

import logging
import ssl
import threading
import time
from typing import Callable

import paho.mqtt.client as mqtt

from pianocam.config import Config, ConfigError
from pianocam.transport.home_assistant import discovery
from pianocam.transport.journal import Entry, Journal
from pianocam.transport.messages import ROUTES, decode, decode_command, encode, envelope, topic_for, transaction_of

logger = logging.getLogger(__name__)

# Journalled events handed to paho but not yet acknowledged; beyond this the sender waits,
# so a slow broker cannot make paho's own queue grow without bound.
_MAX_IN_FLIGHT = 500
# Events waiting while connected and none acknowledged for this long: the sender has stopped.
STALL_SECONDS = 30.0


class _Client(mqtt.Client):
    """paho's client, remembering why the last connection attempt failed (paho keeps only that it did)."""

    connect_error: BaseException | None = None

    def reconnect(self):
        try:
            return super().reconnect()
        except OSError as err:  # refused, unreachable, certificate not verified, TLS to a plain port...
            self.connect_error = err
            raise


def _why(err: BaseException) -> str:
    if isinstance(err, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {err.verify_message or err.reason}"
    if isinstance(err, ssl.SSLError):
        return f"TLS handshake failed: {err.reason or err} (is the broker's port a TLS listener?)"
    return f"{type(err).__name__}: {err.strerror or err}" if isinstance(err, OSError) else str(err)


class Publisher:
    """Stages call `emit(kind, body)`; this class owns the client, the journal and the retained state."""

    def __init__(self, config: Config, journal: Journal, client_id: str | None = None, announce: bool = True):
        self.config = config
        self.journal = journal
        self.unit_id = config.unit_id
        self.base = config.mqtt.base_topic
        self.sent = 0
        self.acknowledged = 0
        # kind -> (payload, the connection it last went out on): retained state is sent once per
        # connection, so a subscriber never sees one seq twice on a steady link.
        self._retained: dict[str, tuple[bytes, int]] = {}
        self._retained_lock = threading.Lock()
        self._connection = 0  # counts successful connects
        self.last_error = ""  # why the broker last refused us, for logs and `pianocam doctor`
        self._status: dict = {}  # fields shown beside state=online (room, source state, ...)
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._wake = threading.Event()
        # Acknowledgements are matched by message id in on_publish: a message handed to paho just as
        # the link dropped keeps an error code in its MQTTMessageInfo even after paho resends it.
        self._ack_lock = threading.Lock()
        self._in_flight: dict[int, int | None] = {}  # mid -> journalled seq (None: not journalled)
        self._early: set[int] = set()  # acknowledged before publish() returned their mid
        self._journal_in_flight = 0
        self._republish = threading.Event()  # retained state to send again after a (re)connect
        self._sent_upto = 0  # the last journalled seq handed to paho in this process
        self._handlers: dict[str, Callable[[str, dict], None]] = {}
        self._listeners: list[Callable[[str, dict], None]] = []

        self._client = _Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"pianocam-{self.unit_id}",
                               protocol=mqtt.MQTTv311, clean_session=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)  # paho doubles the wait up to 30 s
        # An exception in a callback would end paho's network thread (no more commands, no
        # acknowledgements, while status stays online): each is logged and the thread goes on.
        self._client.suppress_exceptions = True
        self._client.on_connect = self._guarded(self._on_connect)
        self._client.on_connect_fail = self._guarded(self._on_connect_fail)
        self._client.on_disconnect = self._guarded(self._on_disconnect)
        self._client.on_publish = self._guarded(self._on_publish)
        self._client.on_message = self._guarded(self._on_message)
        self._last_logged_error = ""
        self._refused = False
        self.disk_full = False  # last seen from the journal, said in status when it changes
        self.sender_stalled = False
        self._progress = (0, time.monotonic())  # (acknowledged, when it last moved)
        m = config.mqtt
        if m.username:
            self._client.username_pw_set(m.username, m.password.get_secret_value() or None)
        if m.tls:
            try:
                self._client.tls_set(ca_certs=m.ca_file or None, certfile=m.cert_file or None,
                                     keyfile=m.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
            except (ssl.SSLError, OSError) as err:
                key = "mqtt.cert_file or mqtt.key_file" if m.cert_file and "PEM" not in str(err) else "mqtt.ca_file"
                raise ConfigError(f"config key '{key}': cannot use {m.ca_file or m.cert_file} for TLS "
                                  f"({getattr(err, 'reason', None) or err})") from None
        # A probe (`pianocam doctor`) connects without announcing itself, so the unit's status is untouched.
        self.announce = announce
        if announce:
            offline = envelope(self.unit_id, journal.next_seq(), {"state": "offline"})
            self._client.will_set(self.topic("status"), encode(offline), qos=1, retain=True)
        self._sender = threading.Thread(target=self._send_journal, name="mqtt-sender", daemon=True)

    def topic(self, kind: str) -> str:
        return topic_for(self.base, self.unit_id, kind)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def start(self) -> None:
        """Connect in the background; the unit runs (and journals) with no broker at all."""
        m = self.config.mqtt
        self._client.connect_async(m.host, m.port, keepalive=m.keepalive)
        self._client.loop_start()
        self._sender.start()

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
        self._notify(kind, payload)
        if route.journalled:
            self.journal.append(Entry(seq, self.topic(kind), payload, route.qos, route.retained))
            self._wake.set()
        elif route.retained:
            with self._retained_lock:
                connection = self._connection if self.connected else -1
                self._retained[kind] = (payload, connection)
                if connection >= 0:
                    self._publish(self.topic(kind), payload, route.qos, True)
        elif self.connected:
            self._publish(self.topic(kind), payload, route.qos, False)
        return seq

    def _publish(self, topic: str, payload: bytes, qos: int, retain: bool, seq: int | None = None):
        """Hand one message to paho and remember its id, so its acknowledgement finds it."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        self.sent += 1
        if qos == 0 and info.rc != mqtt.MQTT_ERR_SUCCESS:
            return info  # paho drops a QoS 0 message it could not send: no acknowledgement will come
        with self._ack_lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
                acked = True
            else:
                self._in_flight[info.mid] = seq
                acked = False
            if seq is not None and not acked:
                self._journal_in_flight += 1
        if acked and seq is not None:
            self.journal.acknowledge(seq)
            self.acknowledged += 1
        return info

    def on_command(self, name: str, handler: Callable[[str, dict], dict]) -> None:
        """Answer `cmd/<name>` requests; subscriptions are renewed on every connect."""
        self._handlers[name] = handler
        if self.connected:
            self._client.subscribe(self.topic(f"cmd/{name}"), qos=1)

    def add_listener(self, listener: Callable[[str, dict], None]) -> None:
        """Call listener(kind, payload) for every message emitted (the demo prints them)."""
        self._listeners.append(listener)

    def pending(self) -> int:
        return len(self.journal)

    def stop(self, timeout: float = 5.0) -> None:
        """Deliver what can be delivered within timeout, say offline, and disconnect."""
        deadline = time.monotonic() + timeout
        while self.connected and len(self.journal) and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        self._stopping.set()
        self._wake.set()
        if self.connected:
            offline = envelope(self.unit_id, self.journal.next_seq(), {"state": "offline"})
            info = self._client.publish(self.topic("status"), encode(offline), qos=1, retain=True)
            try:
                info.wait_for_publish(max(0.1, deadline - time.monotonic()))
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()
        self._client.loop_stop()
        if self._sender.is_alive():
            self._sender.join(timeout=2)

    def _online(self) -> dict:
        conditions = [name for name, on in (("disk full", self.journal.disk_full),
                                            ("sender stalled", self.sender_stalled)) if on]
        return {"state": "online", **self._status, "conditions": conditions}

    def check_health(self) -> list[str]:
        """The watchdog, called once a second: a full disk, or a sender that stopped (events waiting
        while connected, none acknowledged for STALL_SECONDS). A change goes out in status."""
        acknowledged, since = self._progress
        now = time.monotonic()
        if self.acknowledged != acknowledged or not self.connected or not len(self.journal):
            self._progress = (self.acknowledged, now)
            since = now
        stalled = (now - since > STALL_SECONDS) or (self.connected and not self._sender.is_alive())
        changed = stalled != self.sender_stalled or self.journal.disk_full != self.disk_full
        if stalled and not self.sender_stalled:
            logger.error("MQTT sender stalled: %d events waiting while connected, none acknowledged for %.0f s",
                         len(self.journal), now - since)
        elif self.sender_stalled and not stalled:
            logger.warning("MQTT sender moving again")
        self.sender_stalled, self.disk_full = stalled, self.journal.disk_full
        if changed and self.announce:
            self.emit("status", {})
        return self._online()["conditions"]

    def _guarded(self, callback):
        def guarded(*args, **kwargs):
            try:
                return callback(*args, **kwargs)
            except Exception:
                logger.exception("MQTT callback %s failed; carrying on", callback.__name__)
        guarded.__name__ = callback.__name__
        return guarded

    def _log_connect_error(self, why: str) -> None:
        """Each new cause once (paho retries every 1-30 s; the same cause is not logged every time)."""
        self.last_error = why
        if why != self._last_logged_error:
            self._last_logged_error = why
            logger.error("cannot connect to broker %s:%s: %s; retrying with backoff",
                         self.config.mqtt.host, self.config.mqtt.port, why)

    def disconnect_quietly(self) -> None:
        """Leave without a status message: for probes that never announced themselves."""
        self._stopping.set()
        self._wake.set()
        self._client.disconnect()
        self._client.loop_stop()

    # --- paho callbacks: they run on paho's thread and never take our locks ---

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            # Not connected: the broker refused us (bad credentials, say). paho retries.
            self._log_connect_error(f"broker refused the connection: {reason_code}")
            self._refused = True  # the disconnect that follows is this refusal, not a closed link
            return
        logger.info("connected to %s:%s", self.config.mqtt.host, self.config.mqtt.port)
        self._last_logged_error = ""
        for name in self._handlers:
            client.subscribe(self.topic(f"cmd/{name}"), qos=1)
        self._connection += 1
        self._connected.set()
        # paho resends what it still holds from before the drop right after this callback; the
        # retained state goes out from the sender thread, after those, so stale state cannot win.
        if self.announce:
            self._republish.set()
        self._wake.set()

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):
        with self._ack_lock:
            if mid not in self._in_flight:
                self._early.add(mid)
                return
            seq = self._in_flight.pop(mid)
            if seq is not None:
                self._journal_in_flight -= 1
        if seq is not None:
            self.journal.acknowledge(seq)
            self.acknowledged += 1
        self._wake.set()

    def _on_connect_fail(self, client, userdata):
        err = getattr(client, "connect_error", None)
        why = _why(err) if err else "connection failed"
        if self.config.mqtt.tls and isinstance(err, (ConnectionResetError, BrokenPipeError, EOFError)):
            why += f" during the TLS handshake (is port {self.config.mqtt.port} a TLS listener?)"
        self._log_connect_error(why)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        if self.connected and not self._stopping.is_set():
            logger.warning("disconnected from broker (%s); events wait in the journal", reason_code)
        elif not self.connected and not self._stopping.is_set() and not self._refused:
            # Closed before the broker accepted us: plain MQTT to a TLS listener does this.
            self._log_connect_error(f"the broker closed the connection before accepting it ({reason_code}); "
                                    f"if its port is a TLS listener, set mqtt.tls = true")
        self._refused = False
        self._connected.clear()

    def _on_message(self, client, userdata, message):
        name = message.topic.rsplit("/cmd/", 1)[-1]
        if message.retain:  # a retained command would be acted on again at every start
            logger.warning("ignoring a retained command on %s (commands are never retained)", message.topic)
            return
        handler = self._handlers.get(name)
        response_topic = self.topic(f"cmd/{name}/response")
        transaction = None
        try:
            request = decode_command(message.payload)
            transaction = transaction_of(request)
            if handler is None:
                raise ValueError(f"unknown command {name!r}")
            body = {"ok": True, **(handler(name, request) or {})}
        except Exception as err:  # a bad request gets an error response, never a crash
            body = {"ok": False, "error": str(err)[:200]}
        body["transaction"] = transaction
        self._publish(response_topic, encode(envelope(self.unit_id, self.journal.next_seq(), body)), 1, False)

    # --- the sender thread: hands journalled events to paho in order, collects acknowledgements ---

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
        if not self.connected:
            return
        if self._republish.is_set():
            self._republish.clear()
            online = envelope(self.unit_id, self.journal.next_seq(), self._online())
            self._publish(self.topic("status"), encode(online), 1, True)
            if self.config.mqtt.home_assistant:  # off by default: a student's home, not a school
                for topic, entity in discovery(self.base, self.unit_id, self._status.get("room") or ""):
                    self._publish(topic, encode(entity), 1, True)
            with self._retained_lock:
                current = self._connection  # read once: a reconnect meanwhile asks for its own round
                for kind, (payload, connection) in self._retained.items():
                    # status was just published afresh; the rest once per connection
                    if kind != "status" and connection != current:
                        self._publish(self.topic(kind), payload, ROUTES[kind].qos, True)
                        self._retained[kind] = (payload, current)
        room = _MAX_IN_FLIGHT - self._journal_in_flight
        if room <= 0:
            return
        # paho keeps and re-sends whatever it was handed across reconnects, so each entry is
        # handed over once per process; a restarted process replays the whole journal.
        for entry in self.journal.pending(after=self._sent_upto, limit=room):
            if not self.connected:
                break
            if self.journal.claim(entry.seq):  # else dropped by the journal's bounds since read, and counted
                self._publish(entry.topic, entry.payload, entry.qos, entry.retained, seq=entry.seq)
            self._sent_upto = entry.seq

    def _notify(self, kind: str, payload: bytes) -> None:
        for listener in self._listeners:
            try:
                listener(kind, decode(payload))
            except Exception:
                logger.exception("message listener failed")


class Watcher:
    """A subscriber to one unit's (or every unit's) topics, for `pianocam demo --json` and `watch`."""

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

"""The unit's one MQTT client (paho): connect, TLS, last will, reconnect backoff, callbacks that cannot stop it."""
from __future__ import annotations

import logging
import ssl
import threading
from typing import Callable

import paho.mqtt.client as mqtt

from pianocam.config import ConfigError
from pianocam.config.settings import MqttConfig

logger = logging.getLogger(__name__)


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


def _guarded(callback):
    """An exception in a callback would end paho's network thread (no more commands, no
    acknowledgements, while status stays online): each is logged and the thread goes on."""
    def guarded(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except Exception:
            logger.exception("MQTT callback %s failed; carrying on", callback.__name__)
    guarded.__name__ = callback.__name__
    return guarded


class MqttClient:
    """Publish, subscribe, stop; reconnects by itself and says why a connection failed, each cause once."""

    def __init__(self, settings: MqttConfig, client_id: str, will: tuple[str, bytes] | None = None):
        self.settings = settings
        self.sent = 0
        self.connections = 0  # successful connects so far, counted before `connected` turns true
        self.failed_attempts = 0
        self.last_error = ""  # why the broker last refused us, for logs and `pianocam doctor`
        self._connected = threading.Event()
        self._stopping = threading.Event()
        self._last_logged_error = ""
        self._refused = False
        self._on_connected: list[Callable[[], None]] = []
        self._subscriptions: list[str] = []
        # Deliveries are matched by message id in on_publish: a message handed to paho just as the
        # link dropped keeps an error code in its MQTTMessageInfo even after paho resends it.
        self._lock = threading.Lock()
        self._waiting: dict[int, Callable[[], None] | None] = {}  # mid -> what to do once delivered
        self._early: set[int] = set()  # delivered before publish() returned their mid

        self._client = _Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                               protocol=mqtt.MQTTv311, clean_session=True)
        self._client.reconnect_delay_set(min_delay=1, max_delay=30)  # paho doubles the wait up to 30 s
        self._client.suppress_exceptions = True
        self._client.on_connect = _guarded(self._on_connect)
        self._client.on_connect_fail = _guarded(self._on_connect_fail)
        self._client.on_disconnect = _guarded(self._on_disconnect)
        self._client.on_publish = _guarded(self._on_publish)
        self._client.on_message = _guarded(self._on_unexpected)
        if settings.username:
            self._client.username_pw_set(settings.username, settings.password.get_secret_value() or None)
        if settings.tls:
            try:
                self._client.tls_set(ca_certs=settings.ca_file or None, certfile=settings.cert_file or None,
                                     keyfile=settings.key_file or None, cert_reqs=ssl.CERT_REQUIRED)
            except (ssl.SSLError, OSError) as err:
                key = ("mqtt.cert_file or mqtt.key_file" if settings.cert_file and "PEM" not in str(err)
                       else "mqtt.ca_file")
                raise ConfigError(f"config key '{key}': cannot use {settings.ca_file or settings.cert_file} for TLS "
                                  f"({getattr(err, 'reason', None) or err})") from None
        if will is not None:
            self._client.will_set(will[0], will[1], qos=1, retain=True)

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def when_connected(self, callback: Callable[[], None]) -> None:
        """Call callback() on paho's thread after every successful connect, subscriptions renewed."""
        self._on_connected.append(callback)

    def start(self) -> None:
        """Connect in the background and keep reconnecting; nothing waits for the broker."""
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=self.settings.keepalive)
        self._client.loop_start()

    def publish(self, topic: str, payload: bytes, qos: int, retain: bool,
                delivered: Callable[[], None] | None = None) -> bool:
        """Hand one message to paho; delivered() runs once the broker has it. False: dropped (QoS 0, no link)."""
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        self.sent += 1
        if qos == 0 and info.rc != mqtt.MQTT_ERR_SUCCESS:
            return False  # paho drops a QoS 0 message it could not send: no acknowledgement will come
        with self._lock:
            early = info.mid in self._early
            if early:
                self._early.discard(info.mid)
            else:
                self._waiting[info.mid] = delivered
        if early and delivered is not None:
            delivered()
        return True

    def subscribe(self, topic_filter: str, handler: Callable[[str, bytes], None]) -> None:
        """handler(topic, payload) for each request on topic_filter; renewed on every connect.

        The unit subscribes to requests only: a retained one would be acted on again at every start,
        so retained messages are ignored."""
        def on_request(client, userdata, message):
            if message.retain:
                logger.warning("ignoring a retained command on %s (commands are never retained)", message.topic)
                return
            handler(message.topic, message.payload)

        on_request.__name__ = f"on_message({topic_filter})"
        self._client.message_callback_add(topic_filter, _guarded(on_request))
        self._subscriptions.append(topic_filter)
        if self.connected:
            self._client.subscribe(topic_filter, qos=1)

    def stop(self, farewell: tuple[str, bytes] | None = None, timeout: float = 1.0) -> None:
        """Publish farewell (retained, QoS 1) if connected, waiting up to timeout for it; disconnect."""
        self._stopping.set()
        if farewell is not None and self.connected:
            info = self._client.publish(farewell[0], farewell[1], qos=1, retain=True)
            try:
                info.wait_for_publish(max(0.1, timeout))
            except (RuntimeError, ValueError):
                pass
        self._client.disconnect()
        self._client.loop_stop()

    def _log_connect_error(self, why: str) -> None:
        """Each new cause once (paho retries every 1-30 s; the same cause is not logged every time)."""
        self.failed_attempts += 1
        self.last_error = why
        if why != self._last_logged_error:
            self._last_logged_error = why
            logger.error("cannot connect to broker %s:%s: %s; retrying with backoff",
                         self.settings.host, self.settings.port, why)

    # --- paho callbacks: they run on paho's thread ---

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            # Not connected: the broker refused us (bad credentials, say). paho retries.
            self._log_connect_error(f"broker refused the connection: {reason_code}")
            self._refused = True  # the disconnect that follows is this refusal, not a closed link
            return
        logger.info("connected to %s:%s", self.settings.host, self.settings.port)
        self._last_logged_error = ""
        for topic_filter in self._subscriptions:
            client.subscribe(topic_filter, qos=1)
        self.connections += 1
        self._connected.set()
        for callback in self._on_connected:
            callback()

    def _on_publish(self, client, userdata, mid, reason_code=None, properties=None):
        with self._lock:
            if mid not in self._waiting:
                self._early.add(mid)
                return
            delivered = self._waiting.pop(mid)
        if delivered is not None:
            delivered()

    def _on_connect_fail(self, client, userdata):
        err = getattr(client, "connect_error", None)
        why = _why(err) if err else "connection failed"
        if self.settings.tls and isinstance(err, (ConnectionResetError, BrokenPipeError, EOFError)):
            why += f" during the TLS handshake (is port {self.settings.port} a TLS listener?)"
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

    def _on_unexpected(self, client, userdata, message):
        logger.warning("ignoring a message on %s: nothing here subscribed to it", message.topic)

"""An embedded MQTT broker (amqtt) for the demo, so it needs no Mosquitto."""
from __future__ import annotations

import asyncio
import logging
import socket
import threading

logger = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class EmbeddedBroker:
    """amqtt running on its own event loop in a daemon thread, bound to loopback."""

    def __init__(self, host: str = "127.0.0.1", port: int | None = None):
        self.host = host
        self.port = port or free_port(host)
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._broker = None
        self._thread = threading.Thread(target=self._serve, name="amqtt", daemon=True)

    def start(self, timeout: float = 10.0) -> "EmbeddedBroker":
        self._thread.start()
        if not self._ready.wait(timeout) or self._error:
            raise RuntimeError(f"embedded broker did not start on {self.host}:{self.port}: {self._error}")
        logger.info("embedded broker on %s:%d", self.host, self.port)
        return self

    def _serve(self) -> None:
        from amqtt.broker import Broker

        # amqtt logs every connection at INFO; the demo's own output is what matters.
        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.WARNING)
        asyncio.set_event_loop(self._loop)
        config = {"listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}}}
        try:
            self._broker = Broker(config, loop=self._loop)
            self._loop.run_until_complete(self._broker.start())
        except BaseException as err:
            self._error = err
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()

    def stop(self) -> None:
        if self._broker is not None and self._loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout=5)
            except Exception as err:
                logger.debug("broker shutdown: %s", err)
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self) -> "EmbeddedBroker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

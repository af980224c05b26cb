"""Command requests (`cmd/<name>`) routed to one handler each; every request gets one answer, errors included."""
from __future__ import annotations

from typing import Callable

from pianocam.transport.messages import decode_command, transaction_of

Handler = Callable[[str, dict], dict | None]


class CommandRouter:
    """Handlers registered by name; answer() turns any request, however malformed, into one response body."""

    def __init__(self):
        self._handlers: dict[str, Handler] = {}

    def register(self, name: str, handler: Handler) -> None:
        self._handlers[name] = handler

    def __bool__(self) -> bool:
        return bool(self._handlers)

    def answer(self, name: str, payload: bytes) -> dict:
        """{"ok": true, ...what the handler returned} or {"ok": false, "error": ...}, with the request's transaction.

        Size and nesting are bounded before the JSON is parsed (messages.decode_command), and a
        transaction is echoed only if it is short and plain (messages.transaction_of)."""
        transaction = None
        try:
            request = decode_command(payload)
            transaction = transaction_of(request)
            handler = self._handlers.get(name)
            if handler is None:
                raise ValueError(f"unknown command {name[:64]!r}; known: {', '.join(sorted(self._handlers))}")
            body = {"ok": True, **(handler(name, request) or {})}
        except Exception as err:  # a bad request gets an error response, never a crash
            body = {"ok": False, "error": str(err)[:200]}
        body["transaction"] = transaction
        return body

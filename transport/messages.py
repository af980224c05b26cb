"""The MQTT contract in one place: topic names, delivery rules, the envelope and the one JSON encoder."""
from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

SCHEMA = 1


@dataclass(frozen=True)
class Route:
    """How one kind of message travels: its topic under the unit, retained flag, QoS, journalled."""

    suffix: str
    retained: bool
    qos: int
    journalled: bool


# Events (note, technique, skill, report) are journalled so a broker outage loses none of them;
# state (status, session, metrics, calibration) is retained and re-published on connect instead.
ROUTES: dict[str, Route] = {
    "status": Route("status", True, 1, False),
    "note": Route("note", False, 1, True),
    "technique": Route("technique", False, 1, True),
    "skill": Route("skill", False, 1, True),
    "report": Route("report", False, 1, True),
    "session": Route("session", True, 1, False),
    "calibration": Route("calibration", True, 1, False),
    "metrics": Route("metrics", True, 0, False),
    "hands": Route("hands", False, 0, False),
}


class TopicError(ValueError):
    """A topic that must not be published to."""


def topic_for(base: str, unit_id: str, kind: str) -> str:
    """The full topic for a message kind; refuses wildcards and empty levels."""
    if kind.startswith("cmd/"):
        suffix = kind
    else:
        suffix = ROUTES[kind].suffix
    topic = f"{base}/{unit_id}/{suffix}"
    if any(c in topic for c in "+#\0") or "//" in topic or topic.endswith("/"):
        raise TopicError(f"refusing to publish to {topic!r}: wildcards and empty levels are not allowed")
    return topic


def command_filter(base: str, unit_id: str) -> str:
    """The subscription for every `cmd/<name>` request to one unit (its responses are a level deeper)."""
    return topic_for(base, unit_id, "cmd/name").rsplit("/", 1)[0] + "/+"


def utc_timestamp(when: float | None = None) -> str:
    """UTC ISO-8601 with milliseconds, e.g. 2026-11-24T23:40:18.123Z."""
    moment = datetime.now(timezone.utc) if when is None else datetime.fromtimestamp(when, timezone.utc)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(unit_id: str, seq: int, body: dict, when: float | None = None) -> dict:
    """Wrap a message body with the fields every payload carries."""
    return {"schema": SCHEMA, "unit_id": unit_id, "ts": utc_timestamp(when), "seq": seq, **body}


def _plain(value):
    # numpy scalars and arrays appear throughout the stages; JSON has no NaN.
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def encode(payload: dict) -> bytes:
    """The one JSON encoder for payloads: compact, numpy-aware, floats rounded to 4 places."""
    return json.dumps(_plain(payload), separators=(",", ":"), ensure_ascii=False).encode()


def decode(data: bytes | str) -> dict:
    return json.loads(data)


class Deduplicator:
    """The README's rule for subscribers, per topic: an event (journalled, may be replayed) whose seq
    was seen before is a duplicate; retained state is the newest message to arrive, whatever its seq
    (the last will's offline carries a seq reserved when the unit connected, lower than the events
    sent after it)."""

    def __init__(self, limit: int = 100_000):
        self.limit = limit
        self._seen: dict[str, dict[int, None]] = {}  # unit -> seqs of events, oldest first

    def fresh(self, topic: str, payload: dict) -> bool:
        kind = topic.rsplit("/", 1)[-1]
        route = ROUTES.get(kind)
        if route is None or not route.journalled or not isinstance(payload.get("seq"), int):
            return True
        seen = self._seen.setdefault(str(payload.get("unit_id")), {})
        if payload["seq"] in seen:
            return False
        seen[payload["seq"]] = None
        if len(seen) > self.limit:
            del seen[next(iter(seen))]
        return True


# A command is untrusted input: bounded in size and nesting before json parses it (a 1.4 KB
# payload 700 lists deep once broke the encoder echoing it), and its transaction id before it is echoed.
MAX_COMMAND_BYTES = 16 * 1024
MAX_COMMAND_DEPTH = 16
MAX_TRANSACTION_CHARS = 128


def nesting_depth(data: bytes) -> int:
    """How deep JSON arrays and objects nest in data, brackets inside strings not counted."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in data:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # closing quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


def decode_command(data: bytes) -> dict:
    """A command request: a JSON object of bounded size and depth; ValueError says what is wrong."""
    if len(data) > MAX_COMMAND_BYTES:
        raise ValueError(f"payload of {len(data)} bytes; at most {MAX_COMMAND_BYTES}")
    if nesting_depth(data) > MAX_COMMAND_DEPTH:
        raise ValueError(f"payload nests deeper than {MAX_COMMAND_DEPTH} levels")
    try:
        request = json.loads(data or b"{}")
    except (ValueError, UnicodeDecodeError) as err:
        raise ValueError(f"payload is not JSON ({str(err)[:80]})") from None
    if not isinstance(request, dict):
        raise ValueError("payload must be a JSON object")
    return request


def transaction_of(request: dict):
    """The request's transaction id if it is one that can be echoed safely (a short string or a number)."""
    transaction = request.get("transaction")
    if transaction is None:
        return None
    if isinstance(transaction, str) and len(transaction) <= MAX_TRANSACTION_CHARS:
        return transaction
    if isinstance(transaction, int) and not isinstance(transaction, bool) and abs(transaction) < 2**53:
        return transaction
    if isinstance(transaction, float) and math.isfinite(transaction):
        return transaction
    raise ValueError(f"'transaction' must be a string of at most {MAX_TRANSACTION_CHARS} characters or a number")

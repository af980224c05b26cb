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

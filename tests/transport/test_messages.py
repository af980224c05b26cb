"""The MQTT contract: topics, envelope, encoder."""
import re

import numpy as np
import pytest

from pianocam.transport.messages import ROUTES, SCHEMA, TopicError, decode, encode, envelope, topic_for


def test_topics_follow_the_contract():
    assert topic_for("pianocam", "room-1", "status") == "pianocam/room-1/status"
    assert topic_for("pianocam", "room-1", "cmd/recalibrate") == "pianocam/room-1/cmd/recalibrate"
    assert ROUTES["status"].retained and ROUTES["status"].qos == 1
    assert ROUTES["metrics"].retained and ROUTES["metrics"].qos == 0
    assert ROUTES["note"].journalled and not ROUTES["note"].retained


@pytest.mark.parametrize("unit", ["+", "#", "a/#", ""])
def test_wildcards_are_refused(unit):
    with pytest.raises(TopicError):
        topic_for("pianocam", unit, "note")


def test_envelope_and_encoder():
    payload = decode(encode(envelope("u1", 42, {"fps": np.float32(29.97), "n": np.int64(3),
                                                 "xy": np.array([[1.23456, 2.0]]), "bad": float("nan")})))
    assert payload["schema"] == SCHEMA and payload["unit_id"] == "u1" and payload["seq"] == 42
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", payload["ts"])
    assert payload["fps"] == pytest.approx(29.97) and payload["n"] == 3
    assert payload["xy"] == [[1.2346, 2.0]] and payload["bad"] is None

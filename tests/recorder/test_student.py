"""A student's name from cmd/start_session on a running unit, through Mosquitto, into the recorder's database."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import paho.mqtt.client as paho
from sqlalchemy import select

from pianocam.config import load_config
from pianocam.recorder.schema import Session as SessionRow
from pianocam.recorder.store import open_engine
from pianocam.sources import FrameSource
from pianocam.transport.messages import decode
from pianocam.unit.assembly import Unit
from tests.conftest import wait_until
from tests.recorder.test_recorder import RecorderProcess


class EmptyKeyboard(FrameSource):
    """Stands in for the camera (absent here): an empty grey frame at 30 fps."""

    live = True

    def __init__(self):
        super().__init__("empty-keyboard", fps=30)

    def _open(self):
        pass

    def _grab(self):
        time.sleep(1 / 30)
        return np.full((120, 160, 3), 90, np.uint8)


def test_a_session_started_for_a_student_is_stored_with_their_name(broker, tmp_path):
    database = f"sqlite:///{tmp_path / 'school.sqlite'}"
    RecorderProcess(broker, database).start()
    config = load_config(environ={})
    config.unit_id = "practice-4"
    config.mqtt.host, config.mqtt.port = broker.host, broker.port
    config.journal.path = str(tmp_path / "journal.sqlite")
    unit = Unit(config, source=EmptyKeyboard())
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 30, "handle_signals": False})
    runner.start()
    answers, status = [], []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="teacher-tablet")
    client.on_message = lambda c, u, m: (status if "/cmd/status/" in m.topic else answers).append(decode(m.payload))
    client.connect(broker.host, broker.port)
    client.subscribe("pianocam/practice-4/cmd/start_session/response", qos=1)
    client.subscribe("pianocam/practice-4/cmd/status/response", qos=1)
    client.loop_start()
    try:
        assert wait_until(lambda: unit.publisher.connected, 15)
        # The unit's command subscription follows its connect: wait for an answered status request.
        assert wait_until(lambda: client.publish("pianocam/practice-4/cmd/status", "{}", qos=1) and status, 15,
                          step=0.3)
        for request in ({"student": 7, "transaction": "bad"}, {"student": " Ana ", "transaction": "ok"}):
            client.publish("pianocam/practice-4/cmd/start_session", json.dumps(request), qos=1).wait_for_publish(5)
        assert wait_until(lambda: len(answers) == 2, 15), answers
        bad, good = sorted(answers, key=lambda a: a["transaction"])
        assert not bad["ok"] and "student" in bad["error"]
        assert good["ok"] and good["session"]["student"] == "Ana"
        engine = open_engine(database)

        def students():
            with engine.connect() as conn:
                return [row[0] for row in conn.execute(select(SessionRow.student))]

        assert wait_until(lambda: "Ana" in students(), 15), students()
        engine.dispose()
    finally:
        unit.stop_event.set()
        runner.join(15)
        client.loop_stop()
        client.disconnect()

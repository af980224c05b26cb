"""Past one broker: two schools' Mosquittos bridged to a district Mosquitto on loopback (the recipe in
systemd/README.md); the district's recorder stores each school's events exactly once, through a district outage."""
from __future__ import annotations

import time

from tests.conftest import Mosquitto, holds_for, wait_until
from tests.recorder.conftest import BROKER_SETTINGS, STARTED, SYSTEMD
from tests.recorder.test_recorder import RecorderProcess, note, stats, unit_publisher


def bridge_settings(school: str, district_port: int) -> str:
    """The school's broker with the bridge recipe of systemd/mosquitto-bridge.conf, names filled in."""
    recipe = (SYSTEMD / "mosquitto-bridge.conf").read_text()
    return BROKER_SETTINGS + recipe.replace("SCHOOL", school).replace("DISTRICT_HOST:PORT", f"127.0.0.1:{district_port}")


def test_two_schools_reach_the_district_recorder_exactly_once(tmp_path, database):
    (tmp_path / "district").mkdir()
    district = Mosquitto(tmp_path / "district", settings=BROKER_SETTINGS, persistence=True)
    schools = {}
    for name in ("north", "south"):
        (tmp_path / name).mkdir()
        schools[name] = Mosquitto(tmp_path / name, settings=bridge_settings(name, district.port), persistence=True)
    for broker in (district, *schools.values()):
        STARTED.append(broker)
        broker.start()
    recorder = RecorderProcess(district, database, client_id="district-recorder").start()
    units = {f"{school}-{k}": unit_publisher(broker, tmp_path, f"{school}-{k}")
             for school, broker in schools.items() for k in (1, 2)}
    # The bridges are up once a unit's retained status has crossed them.
    assert wait_until(lambda: stats(database)["units"] == 4, 30), stats(database)
    emitted = {name: [] for name in units}

    def play(count):
        for i in range(count):
            for name, publisher in units.items():
                emitted[name].append(publisher.emit("note", note(i)))
            time.sleep(0.003)

    play(100)
    district.stop()  # the district link is down: the school brokers queue for their bridges
    play(100)
    district.start()
    play(100)
    for publisher in units.values():
        publisher.stop(timeout=30)
    total = 4 * 300
    assert wait_until(lambda: stats(database)["notes"] >= total, 60), stats(database)
    assert holds_for(lambda: stats(database)["notes"] == total, 1.0), stats(database)  # no late duplicate
    recorder.stop()
    for broker in schools.values():
        broker.stop()
    district.stop()

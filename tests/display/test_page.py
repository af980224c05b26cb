"""The display page end to end: a live unit and two more on a real Mosquitto, the page in headless Chromium."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from pianocam.display.server import display_dir, make_server
from pianocam.transport.messages import encode, envelope
from tests.conftest import Mosquitto, _mosquitto_binary, free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("PIANOCAM_SCREENSHOTS", Path(__file__).parent / "screenshots"))
LIVE = "practice-3"  # the unit run for real on a rendered scene
FAKE_SEQ = 10_000_000  # seq for the messages this test publishes as the live unit, clear of the unit's own


class Units:
    """Speaks for units not running here, and adds to the live unit what its producers do not publish yet
    (technique), with the project's own encoder."""

    def __init__(self, host: str, port: int):
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"display-test-{os.getpid()}")
        self.client.connect(host, port, keepalive=10)
        self.client.loop_start()
        self.seq: dict[str, int] = {}
        self.started = time.time()

    def send(self, unit: str, kind: str, body: dict, retain: bool = False) -> None:
        self.seq[unit] = self.seq.get(unit, FAKE_SEQ) + 1
        info = self.client.publish(f"pianocam/{unit}/{kind}", encode(envelope(unit, self.seq[unit], body)),
                                   qos=1, retain=retain)
        info.wait_for_publish(5)

    def note(self, unit: str, pitch: int, name: str, hand: str | None, finger: int | None) -> None:
        self.send(unit, "note", {"pitch": pitch, "name": name, "hand": hand, "finger": finger, "confidence": 0.93,
                                 "onset": round(time.time() - self.started, 3), "source": "midi"})

    def technique(self, unit: str, hand: str, advanced: float) -> None:
        t = time.time() - self.started
        self.send(unit, "technique", {"hand": hand, "label": "advanced" if advanced >= 0.5 else "beginner",
                                      "probabilities": {"beginner": round(1 - advanced, 3), "advanced": advanced},
                                      "window": {"frames": 20, "start": round(t - 0.7, 2), "end": round(t, 2)}})

    def session(self, unit: str, notes: int, left: list[int], right: list[int]) -> None:
        self.send(unit, "session", {"active": True, "started": "2026-11-24T23:40:18.123Z", "notes": notes,
                                    "per_finger": {"left": {str(i + 1): n for i, n in enumerate(left)},
                                                   "right": {str(i + 1): n for i, n in enumerate(right)}},
                                    "unknown_share": 0.02}, retain=True)

    def calibration(self, unit: str, state: str, error: float) -> None:
        self.send(unit, "calibration", {"state": state, "mean_error_key_widths": error, "keys": 61,
                                        "lowest": "C2"}, retain=True)

    def fake_unit(self, unit: str, room: str, online: bool, fps: float) -> None:
        """A unit that is not running here: its retained status and metrics, as the publisher sends them."""
        self.send(unit, "status", {"state": "online" if online else "offline", "room": room, "source": "online",
                                   "source_kind": "v4l2"}, retain=True)
        self.send(unit, "metrics", {"fps": fps, "frames": 18234, "dropped_frames": 3, "read_timeouts": 0,
                                    "source_online": True, "queue_depth": 0,
                                    "latency_ms": {"track": {"p50": 11.2, "p95": 14.0},
                                                   "total": {"p50": 16.4, "p95": 21.9}},
                                    "cpu_temperature": 51.5}, retain=True)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def _wait_retained(host: str, port: int, topic: str, predicate, timeout: float) -> dict:
    found: dict = {}
    done = threading.Event()

    def on_message(client, userdata, message):
        payload = json.loads(message.payload)
        if predicate(payload):
            found.update(payload)
            done.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
    client.on_message = on_message
    client.connect(host, port)
    client.loop_start()
    try:
        if not done.wait(timeout):
            raise AssertionError(f"no message on {topic} matching within {timeout} s")
    finally:
        client.loop_stop()
        client.disconnect()
    return found


@pytest.fixture
def broker(tmp_path):
    """Mosquitto with an MQTT listener for the units and a websockets listener serving display/."""
    if not _mosquitto_binary():
        pytest.fail("mosquitto is not installed: the test command installs it (apt-get install mosquitto)")
    ws_port = free_port()
    # Mosquitto's websockets listener ignores a bind address: an ephemeral port keeps it out of the way.
    b = Mosquitto(tmp_path, settings=f"allow_anonymous true\nlistener {ws_port}\nprotocol websockets\n"
                                     f"http_dir {display_dir()}\n")
    b.ws_port = ws_port
    b.start()
    _wait_port(ws_port)
    yield b
    b.stop()


@pytest.fixture
def live_unit(broker, tmp_path):
    """`pianocam run` on the rendered scene: its status and metrics are the real thing."""
    env = {**os.environ, "PIANOCAM_UNIT_ID": LIVE, "PIANOCAM_ROOM": "Practice 3",
           "PIANOCAM_MQTT_HOST": broker.host, "PIANOCAM_MQTT_PORT": str(broker.port),
           "PIANOCAM_SOURCE_KIND": "scene", "PIANOCAM_SOURCE_LOOP": "true", "PIANOCAM_METRICS_INTERVAL": "1",
           "PIANOCAM_JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
           # The page's gauges are checked against the technique this test publishes; the unit's
           # own estimates (on rendered hands) would race them.
           "PIANOCAM_TECHNIQUE_ENABLED": "false"}
    log = open(tmp_path / "unit.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "pianocam.commands.cli", "run", "--seconds", "150"],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    yield proc
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def browser(monkeypatch):
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: the test command installs it (apt-get install chromium)")
    monkeypatch.setenv("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")  # Debian's chromium; Playwright never fetches one
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, chromium_sandbox=False)
        yield b
        b.close()


def _shot(page, name: str, full_page: bool = False) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=full_page)


def _play(units: Units, unit: str) -> None:
    """A right-hand scale, a left-hand chord, one note whose finger is unknown; technique for both hands.

    Pitches above and between the rendered scene's (36-53, 60-77), so the live unit's own notes never hide them.
    """
    scale = [(79, "G5", 1), (81, "A5", 2), (83, "B5", 3), (84, "C6", 1), (86, "D6", 2), (88, "E6", 3),
             (90, "F#6", 4), (91, "G6", 5)]
    for pitch, name, finger in scale:
        units.note(unit, pitch, name, "right", finger)
        time.sleep(0.05)
    units.note(unit, 80, "G#5", "right", None)
    for pitch, name, finger in [(55, "G3", 5), (59, "B3", 2), (57, "A3", 3)]:
        units.note(unit, pitch, name, "left", finger)
    units.note(unit, 93, "A6", "right", 4)
    units.technique(unit, "left", 0.34)
    units.technique(unit, "right", 0.81)


def test_unit_and_classroom_views(broker, live_unit, browser):
    host = broker.host
    _wait_retained(host, broker.port, f"pianocam/{LIVE}/status",
                   lambda p: p.get("state") == "online" and p.get("source") == "online", timeout=60)
    units = Units(host, broker.port)
    try:
        units.fake_unit("practice-1", "Practice 1", online=True, fps=29.8)
        units.fake_unit("practice-2", "Practice 2", online=False, fps=0.0)
        units.calibration("practice-1", "ok", 0.04)
        units.calibration("practice-2", "drifted", 0.41)
        units.session("practice-1", 412, [20, 31, 40, 28, 12], [60, 75, 80, 44, 22])
        units.session("practice-2", 57, [5, 6, 7, 3, 1], [9, 10, 8, 5, 3])

        # --- unit view, served by Mosquitto itself: the page's own host is the broker ---
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"http://127.0.0.1:{broker.ws_port}/index.html?unit={LIVE}")
        page.wait_for_selector('#conn[data-state="connected"]', timeout=10_000)
        page.wait_for_selector('#unit-state[data-state="online"]', timeout=10_000)
        page.wait_for_function("document.querySelector('[data-fact=fps]').textContent.endsWith('fps')",
                               timeout=10_000)
        assert page.text_content("#room") == "Practice 3"
        # The live unit's own calibration and session (whatever state its key map is in).
        page.wait_for_function("/^(OK|Drifted|Missing)/.test(document.querySelector('[data-fact=calibration]')"
                               ".textContent)", timeout=10_000)
        # The unit's own notes (from the scene's MIDI) reach the page.
        page.wait_for_function(f"[...document.querySelectorAll('#notes li.note')].some(li => li.dataset.seq "
                               f"&& Number(li.dataset.seq) < {FAKE_SEQ})", timeout=20_000)
        _play(units, LIVE)
        page.wait_for_selector('#notes li[data-pitch="93"]', timeout=5_000)
        rows = page.eval_on_selector_all("#notes li.note", "els => els.map(e => [e.dataset.seq, e.dataset.pitch, "
                                         "e.dataset.hand, e.dataset.finger, e.querySelector('.badge').textContent])")
        played = {int(p): (h, f, badge) for seq, p, h, f, badge in rows if seq and int(seq) > FAKE_SEQ}
        assert played[79] == ("right", "1", "1") and played[91] == ("right", "5", "5")
        assert played[55] == ("left", "5", "5") and played[59] == ("left", "2", "2")
        assert played[80] == ("right", "", "?")  # finger unknown is shown as such, not guessed
        key = page.locator('#keyboard .key[data-pitch="93"]')
        assert "lit" in key.get_attribute("class") and "right" in key.get_attribute("class")
        assert key.locator(".finger").text_content() == "4"
        assert "left" in page.locator('#keyboard .key[data-pitch="59"]').get_attribute("class")
        page.wait_for_selector('#gauge-right.advanced', timeout=5_000)
        assert page.text_content("#gauge-right .gauge-label") == "Advanced"
        assert page.text_content("#gauge-right .gauge-prob") == "81% advanced"
        assert "20 frames" in page.text_content("#gauge-right .gauge-window")
        assert page.text_content("#gauge-left .gauge-label") == "Beginner"
        page.wait_for_function("Number(document.querySelector('#session-notes').textContent) > 0", timeout=10_000)
        _shot(page, "unit-desktop.png")

        # The buttons send commands to the live unit, which answers on cmd/<name>/response.
        page.click('#controls button[data-command="start_session"]')
        page.wait_for_function("document.querySelector('#command-result').textContent.startsWith('New session: "
                               "started')", timeout=7_000)
        assert "ok" in page.get_attribute("#command-result", "class")
        page.click('#controls button[data-command="check_calibration"]')
        page.wait_for_function("document.querySelector('#command-result').textContent.startsWith('Check calibration:"
                               " the next frame')", timeout=7_000)

        # Phone in portrait: the same view in one column.
        phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True,
                                    has_touch=True).new_page()
        phone.goto(f"http://127.0.0.1:{broker.ws_port}/index.html?unit={LIVE}")
        phone.wait_for_selector('#unit-state[data-state="online"]', timeout=10_000)
        _play(units, LIVE)
        phone.wait_for_selector('#gauge-right.advanced', timeout=5_000)
        phone.wait_for_selector('#notes li[data-pitch="93"]', timeout=5_000)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing spills sideways
        phone.wait_for_timeout(700)  # the keyboard scrolls smoothly to the lit keys
        _shot(phone, "unit-phone.png")
        _shot(phone, "unit-phone-full.png", full_page=True)
        phone.context.close()

        # --- classroom: three units, one tile each ---
        room = browser.new_page(viewport={"width": 1280, "height": 800})
        room.on("pageerror", lambda e: errors.append(str(e)))
        room.goto(f"http://127.0.0.1:{broker.ws_port}/")  # the page with no unit chosen opens the classroom
        room.wait_for_url("**/classroom.html", timeout=5_000)
        room.wait_for_function("document.querySelectorAll('.tile').length === 3", timeout=10_000)
        for unit, pitch, name, finger in [("practice-1", 64, "E4", 3), (LIVE, 67, "G4", 2)]:
            units.note(unit, pitch, name, "right", finger)
        units.technique("practice-1", "right", 0.77)
        units.technique("practice-1", "left", 0.58)
        units.technique("practice-2", "right", 0.22)
        room.wait_for_selector('.tile[data-unit="practice-1"].playing', timeout=5_000)
        tiles = {t.get_attribute("data-unit"): t.inner_text() for t in room.query_selector_all(".tile")}
        assert set(tiles) == {"practice-1", "practice-2", LIVE}
        assert "Practice 1" in tiles["practice-1"] and "Playing" in tiles["practice-1"]
        assert "412" in tiles["practice-1"] and "Advanced" in tiles["practice-1"]
        assert "Offline" in tiles["practice-2"] and "calibration drifted" in tiles["practice-2"]
        assert "Practice 3" in tiles[LIVE] and re.search(r"\d+\s*notes", tiles[LIVE])
        assert "fps" in tiles[LIVE]  # the live unit's real metrics
        _shot(room, "classroom.png")
        room.click('.tile[data-unit="practice-1"]')
        room.wait_for_url(lambda url: "unit=practice-1" in url, timeout=5_000)
        room.wait_for_function("document.querySelector('#room').textContent === 'Practice 1'", timeout=5_000)
        # practice-1 is online but nothing answers its commands: the page says so instead of waiting forever.
        room.wait_for_selector('#controls button[data-command="recalibrate"]:not([disabled])', timeout=5_000)
        room.click('#controls button[data-command="recalibrate"]')
        room.wait_for_function("document.querySelector('#command-result').textContent.includes('no answer')",
                               timeout=12_000)
        assert not errors, errors
    finally:
        units.stop()


def test_display_server_and_broker_outage(broker, browser, tmp_path):
    """`pianocam display` serves the page; it says "disconnected" within 5 s of the broker stopping and recovers."""
    server = make_server(display_dir(), "127.0.0.1", 0, broker=f"ws://127.0.0.1:{broker.ws_port}")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    units = Units(broker.host, broker.port)
    try:
        units.fake_unit("practice-1", "Practice 1", online=True, fps=29.8)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/index.html?unit=practice-1")
        page.wait_for_selector('#conn[data-state="connected"]', timeout=10_000)
        page.wait_for_selector('#unit-state[data-state="online"]', timeout=10_000)
        # The small form: shows what the page connected with, and reconnects with what is typed.
        page.click("#connect-button")
        assert page.input_value("#connect-dialog input[name=broker]") == f"ws://127.0.0.1:{broker.ws_port}"
        page.fill("#connect-dialog input[name=username]", "teacher")
        page.click("#connect-dialog button[value=ok]")
        page.wait_for_url(lambda url: "username=teacher" in url and "broker=ws" in url, timeout=5_000)
        page.wait_for_selector('#conn[data-state="connected"]', timeout=10_000)
        page.wait_for_selector('#unit-state[data-state="online"]', timeout=10_000)
        units.stop()

        # A broker gone silent (a frozen host, a pulled cable: no TCP close) is noticed by keepalive.
        os.kill(broker.proc.pid, signal.SIGSTOP)
        try:
            frozen = time.monotonic()
            page.wait_for_selector('#conn[data-state="disconnected"]', timeout=8_000)
            silent_s = time.monotonic() - frozen
        finally:
            os.kill(broker.proc.pid, signal.SIGCONT)
        assert silent_s < 7.0, f"a silent broker went unnoticed for {silent_s:.1f} s"
        page.wait_for_selector('#conn[data-state="connected"]', timeout=10_000)

        broker.stop()
        stopped = time.monotonic()
        page.wait_for_selector('#conn[data-state="disconnected"]', timeout=5_000)
        assert time.monotonic() - stopped < 5.0
        assert page.is_visible("#conn-banner")
        assert "Disconnected" in page.text_content("#conn-banner")
        _shot(page, "unit-disconnected.png")

        broker.start()
        page.wait_for_selector('#conn[data-state="connected"]', timeout=15_000)
        assert not page.is_visible("#conn-banner")
        # Subscriptions came back with the connection: a note after the restart arrives.
        units = Units(broker.host, broker.port)
        units.note("practice-1", 62, "D4", "left", 2)
        page.wait_for_selector('#notes li[data-pitch="62"][data-finger="2"]', timeout=5_000)
    finally:
        units.stop()
        server.shutdown()
        server.server_close()


def test_display_command_refuses_a_missing_page(tmp_path, capsys):
    import argparse

    from pianocam.display import server as display_server

    parser = argparse.ArgumentParser()
    display_server.add_arguments(parser)
    args = parser.parse_args(["--port", "0", "--dir", str(tmp_path)])
    assert display_server.run(args) == 2
    assert "index.html is missing" in capsys.readouterr().err


def test_vendored_client_matches_the_lock():
    root = display_dir()
    lock = json.loads((root / "package-lock.json").read_text())
    version = lock["packages"]["node_modules/mqtt"]["version"]
    assert (root / "vendor" / "VERSION").read_text().split() == ["mqtt", version]
    assert (root / "vendor" / "mqtt.min.js").stat().st_size > 100_000
    assert (root / "vendor" / "mqtt.LICENSE.md").is_file()
    # No CDN at run time: every script the pages load is a local file.
    for html in ("index.html", "classroom.html"):
        text = (root / html).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text


def test_classroom_shows_a_crashed_unit_offline_though_its_will_has_an_older_seq(broker, browser, tmp_path):
    """The last will's offline carries the seq reserved at connect, below the notes sent after it: the
    classroom takes the newest status whatever its seq (the README's per-topic rule)."""
    from pianocam.config import load_config
    from pianocam.transport.journal import Journal
    from pianocam.transport.publisher import Publisher
    from tests.conftest import Cable, wait_until

    cable = Cable(broker)
    config = load_config(environ={})
    config.unit_id, config.room = "crashing", "Practice 9"
    config.mqtt.host, config.mqtt.port = cable.host, cable.port
    config.journal.path = str(tmp_path / "journal.sqlite")
    unit = Publisher(config, Journal(config.journal_path()))
    unit.emit("status", {"room": "Practice 9", "source": "online"})
    unit.start()
    room = browser.new_page(viewport={"width": 1280, "height": 800})
    room.goto(f"http://127.0.0.1:{broker.ws_port}/classroom.html")
    room.wait_for_selector('.tile[data-unit="crashing"]', timeout=10_000)
    seqs = [unit.emit("note", {"pitch": 60 + i, "name": "C4", "hand": "right", "finger": 1}) for i in range(5)]
    assert wait_until(lambda: unit.pending() == 0)
    assert "Offline" not in room.inner_text('.tile[data-unit="crashing"]')
    cable.cut()  # a crash: no DISCONNECT, the broker sends the will
    room.wait_for_function("document.querySelector('.tile[data-unit=\"crashing\"]').innerText.includes('Offline')",
                           timeout=10_000)
    will = _wait_retained(broker.host, broker.port, "pianocam/crashing/status", lambda p: True, timeout=5)
    assert will["state"] == "offline" and will["seq"] < seqs[-1]
    unit.stop(timeout=0.5)
    unit.journal.close()

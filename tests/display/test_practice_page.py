"""The pages in a practice session: the page starts one on a live unit (a rendered exercise looping through
MediaPipe), shows the verdict and the finger as written per note, the running score and the report;
the classroom tile shows the exercise and its score. Real Mosquitto, headless Chromium."""
from __future__ import annotations

import json
import subprocess
import sys
import threading

import pytest

from pianocam.commands.watch import Watcher
from pianocam.config import load_config
from pianocam.unit.assembly import Unit
from tests.conftest import Inbox
from tests.display.test_page import _shot, broker, browser  # noqa: F401  (fixtures)
from tests.practice.test_live_session import ExerciseSource, next_pass_end

UNIT = "practice-7"
EXERCISE = "scales/c_major"

pytestmark = pytest.mark.slow


@pytest.fixture
def practising_unit(broker, tmp_path):  # noqa: F811
    folder = tmp_path / "exercise"
    subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "render", "--exercise", EXERCISE, "--passage", "1",
                    "--finger-changes", "3", "--wrong-notes", "1", "--seed", "3", "--no-audio", "--out", str(folder)],
                   capture_output=True, check=True)
    config = load_config(environ={})
    config.unit_id, config.room = UNIT, "Practice 7"
    config.mqtt.host, config.mqtt.port = broker.host, broker.port
    config.journal.path = str(tmp_path / "journal.sqlite")
    config.calibration.keymap = str(tmp_path / "keymap.json")
    config.source.loop = True
    config.technique.enabled = False
    config.metrics.interval = 1.0
    unit = Unit(config, source=ExerciseSource(folder))
    runner = threading.Thread(target=unit.run, kwargs={"seconds": 120, "handle_signals": False})
    runner.start()
    yield json.loads((folder / "truth.json").read_text())
    unit.stop_event.set()
    runner.join(30)


def test_practice_session_on_the_pages(broker, browser, practising_unit):  # noqa: F811
    truth = practising_unit
    inbox = Inbox()
    watcher = Watcher(broker.host, broker.port, unit_id=UNIT, on_message=inbox)
    assert watcher.start()

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"http://127.0.0.1:{broker.ws_port}/index.html?unit={UNIT}")
    page.wait_for_selector('#unit-state[data-state="online"]', timeout=30_000)
    page.wait_for_selector('#controls button[data-command="start_session"]:not([disabled])', timeout=10_000)
    assert page.locator("#practice-card").is_hidden()
    page.fill("#exercise-name", EXERCISE)
    page.fill("#exercise-passage", "1")
    # Start in the quiet between two times through the looping take, end in the next: one whole pass.
    assert next_pass_end(inbox, truth, 60)
    page.click('#controls button[data-command="start_session"]')
    page.wait_for_function("document.querySelector('#command-result').textContent.startsWith("
                           f"'New session: practising {EXERCISE}, 58 notes')", timeout=10_000)
    # Notes arrive with verdicts; within one time through, the wrong note and a wrong finger show.
    page.wait_for_selector('#notes li[data-verdict="wrong_note"]', timeout=40_000)
    page.wait_for_selector('#notes li[data-verdict="wrong_finger"]', timeout=40_000)
    page.wait_for_selector("#practice-card:not([hidden])", timeout=5_000)
    assert page.text_content('[data-fact="exercise"]') == EXERCISE
    page.wait_for_function("/\\d+%/.test(document.querySelector('[data-fact=as-written]').textContent)",
                           timeout=10_000)
    row = page.locator('#notes li[data-verdict="wrong_finger"]').first
    assert row.locator(".verdict").text_content() == "wrong finger"
    written = row.locator(".note-written").text_content()
    assert written.startswith("written ") and written.split()[1] != row.get_attribute("data-finger")
    pitch = row.get_attribute("data-pitch")
    key = page.locator(f'#keyboard .key[data-pitch="{pitch}"]')
    assert key.locator(".expected-finger").text_content().startswith("✎")
    _shot(page, "practice-unit.png")

    assert next_pass_end(inbox, truth, 40)
    page.click('#controls button[data-command="stop_session"]')
    page.wait_for_function("/\\/ 10$/.test(document.querySelector('[data-fact=skill]')?.textContent || '')",
                           timeout=15_000)
    assert "pianocam-rubric" in page.text_content('[data-fact="rubric"]')
    tempo = page.text_content('[data-fact="tempo"]')
    assert "bpm" in tempo and tempo.endswith("%")
    _shot(page, "practice-report.png", full_page=True)

    room = browser.new_page(viewport={"width": 1280, "height": 800})
    room.on("pageerror", lambda e: errors.append(str(e)))
    room.goto(f"http://127.0.0.1:{broker.ws_port}/classroom.html")
    room.wait_for_selector(f'.tile[data-unit="{UNIT}"] .tile-practice', timeout=10_000)
    tile = room.locator(f'.tile[data-unit="{UNIT}"] .tile-practice').inner_text()
    assert EXERCISE in tile and "fingering as written" in tile
    _shot(room, "practice-classroom.png")
    watcher.stop()
    assert not errors, errors
    report = inbox.of("report")[-1]
    assert report["expected_notes"] == 58 and report["counts"]["wrong_note"] == 1

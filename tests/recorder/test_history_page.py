"""The teachers' history page in headless Chromium on a recorded term (tests/recorder/term.py)."""
from __future__ import annotations

import csv
import io
import os
import urllib.request
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest

from pianocam.recorder import history
from pianocam.recorder.store import Store, open_engine
from pianocam.recorder.web import hash_password, serve
from tests.conftest import free_port, port_closed, wait_until
from tests.recorder.term import make_term

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(os.environ.get("PIANOCAM_SCREENSHOTS", Path(__file__).parent / "screenshots"))


@pytest.fixture(scope="module")
def term():
    return make_term()


@pytest.fixture(scope="module")
def site(term, tmp_path_factory):
    store = Store(open_engine(f"sqlite:///{tmp_path_factory.mktemp('term') / 'recorder.sqlite'}"))
    for i in range(0, len(term.messages), 1000):
        store.record(term.messages[i:i + 1000])
    store.set_teacher("ms-lee", hash_password("correct horse"))
    port = free_port()
    server = serve(store, "127.0.0.1", port)
    assert wait_until(lambda: server.started, 10)
    yield store, f"http://127.0.0.1:{port}"
    server.should_exit = True
    assert wait_until(lambda: port_closed("127.0.0.1", port), 10)
    store.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: the test command installs it (apt-get install chromium)")
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"  # Debian's chromium; Playwright never fetches one
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, chromium_sandbox=False)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def _log_in(page, base: str, password: str = "correct horse") -> None:
    page.goto(base + "/")
    assert page.url.endswith("/login")
    page.fill("input[name=name]", "ms-lee")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def test_nothing_without_logging_in(site):
    _, base = site
    for path in ("/", "/student/Ana", "/export.csv"):
        with urllib.request.urlopen(base + path) as response:  # follows the redirect
            assert response.url.endswith("/login")
            assert b"Teachers' log-in" in response.read()


def test_history_of_a_student_over_the_term(site, term, browser):
    store, base = site
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    _log_in(page, base, password="wrong password")
    assert "wrong password" in page.inner_text(".error")
    _shot(page, "history-login.png")
    _log_in(page, base)
    assert page.url == base + "/"
    assert page.locator("main li a").all_inner_texts() == ["Ana", "Ben", "Chloe", "practice-1", "practice-2"]
    _shot(page, "history-overview.png")

    page.click("text=Ana")
    planned = [s for s in term.sessions if s.student == "Ana"]
    # Minutes per ISO week against the plan's playing time (pauses left out), not the page's arithmetic.
    truth = defaultdict(float)
    for s in planned:
        year, week, _ = date.fromtimestamp(s.started).isocalendar()
        truth[f"{year}-W{week:02d}"] += s.played_s / 60
    cells = page.locator("#weeks tr td").all_inner_texts()
    shown = dict(zip(cells[::2], (float(c) for c in cells[1::2])))
    assert shown.keys() == truth.keys() and len(shown) == 6
    for week, minutes in truth.items():
        assert abs(shown[week] - minutes) <= 1.0, (week, shown[week], minutes)
    assert page.locator("#sessions tr").count() == len(planned) + 1
    # One practice chart, and tempo and fingering charts for each exercise Ana played.
    exercises = {s.exercise for s in planned}
    assert page.locator(".chart svg").count() == 1 + 2 * len(exercises) and len(exercises) == 2
    assert page.locator("table.report").count() == 5
    latest = sorted({s.exercise for s in planned[-5:]})
    assert sorted({t.split(" · ")[-1] for t in page.locator("table.report th").all_inner_texts()}) == latest
    _shot(page, "history-student.png")

    # The CSV export, fetched with the teacher's cookie: one row per session, as planned.
    response = page.request.get(base + "/export.csv?student=Ana")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert [(r["exercise"], float(r["tempo_bpm"])) for r in rows] == [(s.exercise, round(s.tempo)) for s in planned]
    for row, s in zip(rows, planned):
        assert abs(float(row["fingering_as_written"]) - s.as_written) < 1e-3
        assert int(row["notes"]) == s.notes
        assert abs(float(row["minutes_practised"]) - s.played_s / 60) <= 0.1

    page.goto(base + "/")
    page.click("text=practice-2")
    assert page.locator("#sessions tr").count() == 1 + sum(s.unit_id == "practice-2" for s in term.sessions)
    _shot(page, "history-unit.png")
    page.close()


def test_teacher_names_the_student_of_a_session(site, browser):
    store, base = site
    page = browser.new_page()
    _log_in(page, base)
    page.click("text=practice-2")
    first = page.locator("#sessions tr").nth(1)
    first.locator("input[name=student]").fill("Dana")
    first.locator("button").click()
    page.goto(base + "/")
    assert "Dana" in page.locator("main li a").all_inner_texts()
    rows = history.sessions(store.engine, student="Dana")
    assert len(rows) == 1
    store.tag(rows[0].id, None)
    page.close()

"""`pianocam doctor`: checks what a unit needs, one line each, and says what to fix."""
from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .config import Config


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""


def check_hand_models() -> Check:
    try:
        import mediapipe
    except ImportError as err:
        return Check("hand models", False, f"mediapipe missing ({err})", "run ./setup.sh venv")
    base = Path(mediapipe.__file__).parent / "modules"
    needed = [base / "hand_landmark" / "hand_landmark_lite.tflite", base / "palm_detection" / "palm_detection_lite.tflite"]
    missing = [p.name for p in needed if not p.exists()]
    if missing:
        return Check("hand models", False, f"mediapipe {mediapipe.__version__} lacks {', '.join(missing)}",
                     "install mediapipe==0.10.18 (1.x ships no hand models and would download them)")
    return Check("hand models", True, f"mediapipe {mediapipe.__version__}, bundled models present")


def check_source(config: Config, timeout: float = 10.0) -> Check:
    from .sources import SourceError, open_source

    source = None
    try:
        source = open_source(config.source)
        with source:
            frame = source.read(timeout)
    except SourceError as err:
        why = getattr(source, "last_error", "") or str(err)
        return Check("frame source", False, why, _source_fix(config))
    except Exception as err:  # any failure here is something to report, not to crash on
        return Check("frame source", False, f"{type(err).__name__}: {err}", _source_fix(config))
    if frame is None:
        return Check("frame source", False, f"{source.name} gave no frame", _source_fix(config))
    width, height = frame.size
    return Check("frame source", True, f"{source.name}: {width}x{height}")


def _source_fix(config: Config) -> str:
    kind = config.source.kind
    return {"v4l2": "check the cable and `v4l2-ctl --list-devices`; the service user must be in group video",
            "picamera": "sudo apt install python3-picamera2; create .venv with PIANOCAM_SYSTEM_SITE=1 ./setup.sh venv",
            "video": "check source.uri"}.get(kind, "check the [source] section")


def check_broker(config: Config, timeout: float = 5.0) -> Check:
    from .journal import Journal
    from .publisher import Publisher

    where = f"{config.mqtt.host}:{config.mqtt.port}"
    try:
        with socket.create_connection((config.mqtt.host, config.mqtt.port), timeout=timeout):
            pass
    except OSError as err:
        return Check("broker", False, f"{where} unreachable: {err}",
                     "check mqtt.host / mqtt.port and that the broker runs; events wait in the journal meanwhile")
    with tempfile.TemporaryDirectory() as state:
        publisher = Publisher(config, Journal(Path(state) / "probe.sqlite"),
                              client_id=f"pianocam-doctor-{os.getpid()}", announce=False)
        publisher.start()
        deadline = time.monotonic() + timeout
        while not publisher.connected and not publisher.last_error and time.monotonic() < deadline:
            time.sleep(0.05)
        connected, error = publisher.connected, publisher.last_error
        publisher.disconnect_quietly()
        publisher.journal.close()
    if connected:
        return Check("broker", True, f"{where}, MQTT connect accepted" + (" over TLS" if config.mqtt.tls else ""))
    return Check("broker", False, f"{where}: {error or 'no MQTT answer'}",
                 "check mqtt.username, the password (mqtt.password_file or credential) and mqtt.tls settings")


def check_journal(config: Config) -> Check:
    from .journal import Journal

    path = config.journal_path()
    try:
        journal = Journal(path, config.journal.max_events)
        backlog = len(journal)
        journal.close()
    except Exception as err:
        return Check("journal", False, f"{path}: {err}", "the state directory must be writable by the service user")
    return Check("journal", True, f"{path}, {backlog} events waiting")


def run_checks(config: Config) -> list[Check]:
    checks = [check_hand_models(), check_journal(config), check_source(config)]
    try:
        checks.append(check_broker(config))
    except Exception as err:  # a bad TLS file, say: report it as the broker check's failure
        checks.append(Check("broker", False, f"{type(err).__name__}: {err}", "check the [mqtt] section"))
    return checks


def report(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:14} {c.detail}")
        if not c.ok and c.fix:
            lines.append(f"{'':6}{'':14} fix: {c.fix}")
    return "\n".join(lines)

"""`pianocam doctor`: checks what a unit needs, one line each, and says what to fix."""
from __future__ import annotations

import os
import socket
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pianocam.config import Config


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


def check_source(config: Config, timeout: float = 10.0, frames: list | None = None) -> Check:
    """Open the camera and read one frame; the frame goes into `frames` for the calibration check."""
    from pianocam.scene.source import open_configured
    from pianocam.sources import SourceError

    source = None
    try:
        source = open_configured(config.source)
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
    if frames is not None:
        frames.append(frame.image)
    return Check("frame source", True, f"{source.name}: {width}x{height}")


def _refusal_picture(config: Config, image, error: str) -> str | None:
    """Write the frame with the refusal's reason (and the keys found) next to the key map; its path."""
    import cv2

    from pianocam.calibration.from_notes import provisional_keymap
    from pianocam.calibration.overlay import draw_refusal

    path = config.keymap_path().with_name("calibration-refused.png")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return str(path) if cv2.imwrite(str(path), draw_refusal(image, error, provisional_keymap(image))) else None
    except (OSError, cv2.error):
        return None


def check_calibration(config: Config, image=None) -> Check:
    """Is there a key map, does it fit the camera, and does the keyboard still lie where it says?

    Read-only: the unit writes the map itself when it starts without one.
    """
    from pianocam.calibration.keymap import KeyMap
    from pianocam.calibration.live import calibrate_frame

    path = config.keymap_path()
    recalibrate = (f"pianocam calibrate --source <camera> --out {path} (add --overlay check.png to see it), "
                   "or send cmd/recalibrate to the running unit")

    def fresh(why: str) -> Check:
        """The unit maps the keys from its first frame in these cases: can this frame be mapped?"""
        if image is None:
            return Check("calibration", False, f"{why}, and no frame to map one from", "fix the frame source first")
        keymap, error = calibrate_frame(image, config.calibration)
        if keymap is None:
            picture = _refusal_picture(config, image, error)
            seen = f" (what was found: {picture})" if picture else ""
            if "which octave" in error:
                return Check("calibration", True, f"{why}; the keys are found but not numbered from this frame "
                             f"({error}){seen}: the unit numbers them from the first notes played",
                             "or give calibration.first_c (the leftmost C in view)")
            return Check("calibration", False, f"{why}, and this frame cannot be mapped: {error}{seen}",
                         "point the camera straight down at the whole keyboard, or give calibration.keys, "
                         "calibration.lowest / first_c, or map it by hand: pianocam calibrate --corners ...")
        return Check("calibration", True, f"{why}; the unit will map {len(keymap.keys)} keys "
                     f"({keymap.keys[0].name}–{keymap.keys[-1].name}) from its first frame into {path}")

    if not path.exists():
        return fresh(f"no key map yet at {path}")
    try:
        keymap = KeyMap.load(path)
    except (ValueError, KeyError, OSError) as err:
        return fresh(f"{path} unusable ({err})")
    what = f"{path}: {len(keymap.keys)} keys {keymap.keys[0].name}–{keymap.keys[-1].name}" + \
        (" (partial)" if keymap.partial else "")
    if image is None:
        return Check("calibration", True, f"{what}; not compared with the camera (no frame)")
    if tuple(keymap.image_size) != tuple(image.shape[1::-1]):
        return fresh(f"{path} is for {keymap.image_size[0]}x{keymap.image_size[1]} frames, the camera gives "
                     f"{image.shape[1]}x{image.shape[0]}")
    from pianocam.calibration.drift import check_drift

    drift = check_drift(keymap, image)
    if drift["state"] == "drifted":
        return Check("calibration", False, f"{what}, but the camera has moved: {drift['reason']}", recalibrate)
    if drift["state"] == "unknown":
        return Check("calibration", True, f"{what}; too few keys in view to compare ({drift['reason']})")
    return Check("calibration", True, f"{what}; matches the camera (mean error "
                 f"{drift['mean_error_key_widths']:.2f} key widths over {drift['keys_seen']} black keys)")


def check_technique_model(config: Config) -> Check:
    """Load the technique model as the unit would: sha256, schema and shapes checked."""
    c = config.technique
    if not c.enabled:
        return Check("technique", True, "disabled (technique.enabled = false)")
    from pianocam.models.runtime import ManifestError
    from pianocam.technique.estimator import DEFAULT_MODEL_DIR, TechniqueEstimator

    folder = c.model_dir or DEFAULT_MODEL_DIR
    try:
        TechniqueEstimator(folder, precision=c.precision, stride=c.stride, fmt=c.format)
    except ManifestError as err:
        return Check("technique", False, str(err), "re-export the model (pianocam export technique) or set "
                     "technique.model_dir to a folder with a matching manifest; the rest of the unit runs without it")
    return Check("technique", True, f"{folder}: {c.precision} {c.format} model loaded, manifest and sha256 match")


def _source_fix(config: Config) -> str:
    kind = config.source.kind
    return {"v4l2": "check the cable and `v4l2-ctl --list-devices`; the service user must be in group video",
            "picamera": "sudo apt install python3-picamera2; create .venv with PIANOCAM_SYSTEM_SITE=1 ./setup.sh venv",
            "video": "check source.uri"}.get(kind, "check the [source] section")


def check_broker(config: Config, timeout: float = 5.0) -> Check:
    from pianocam.transport.journal import Journal
    from pianocam.transport.publisher import Publisher

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
    from pianocam.transport.journal import Journal

    path = config.journal_path()
    try:
        journal = Journal(path, config.journal.max_events)  # no max_age: the doctor only looks
        backlog = len(journal)
        journal.close()
    except Exception as err:
        return Check("journal", False, f"{path}: {err}", "the state directory must be writable by the service user")
    return Check("journal", True, f"{path}, {backlog} events waiting")


def run_checks(config: Config) -> list[Check]:
    frames: list = []
    checks = [check_hand_models(), check_technique_model(config), check_journal(config),
              check_source(config, frames=frames)]
    checks.append(check_calibration(config, frames[0] if frames else None))
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

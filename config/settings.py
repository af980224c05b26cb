"""One typed config: defaults, then a TOML file, then PIANOCAM_* variables, then secret files."""
from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import socket
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints


class ConfigError(ValueError):
    """A config value or key that pianocam cannot use; the message names it."""


def _doc(text: str, default: Any = dataclasses.MISSING, **kw) -> Any:
    if default is dataclasses.MISSING:
        return field(metadata={"doc": text}, **kw)
    return field(default=default, metadata={"doc": text}, **kw)


def default_unit_id() -> str:
    """The hostname squeezed into the topic-safe alphabet [a-z0-9-]."""
    name = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().lower()).strip("-")
    return name or "pianocam"


def default_state_dir() -> str:
    # systemd's StateDirectory= sets STATE_DIRECTORY; elsewhere follow XDG.
    if os.environ.get("STATE_DIRECTORY"):
        return os.environ["STATE_DIRECTORY"].split(":")[0]
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "pianocam")


@dataclass
class SourceConfig:
    kind: str = _doc("where frames come from: scene | video | v4l2 | picamera | gstreamer (a Jetson's CSI camera)",
                     "scene")
    uri: str = _doc("video file path or URL (video), device path or index (v4l2); gstreamer: the pipeline up to "
                    "its last element, run by gst-launch-1.0 (the unit appends videoconvert to BGR at width x "
                    "height ! fdsink); empty: 'nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),width=W,"
                    "height=H,framerate=F/1 ! nvvidconv ! video/x-raw,format=BGRx', a Jetson's CSI camera 0", "")
    width: int = _doc("requested frame width in pixels", 960)
    height: int = _doc("requested frame height in pixels", 540)
    fps: float = _doc("requested frame rate; file and scene sources are paced to it", 30.0)
    read_timeout: float = _doc("seconds a read may wait for a frame before it is an error", 2.0)
    loop: bool = _doc("start a file or scene source again when it ends", False)
    realtime: bool = _doc("pace file and scene sources to their frame rate", True)
    scene_seed: int = _doc("rendered scene: seed", 7)
    scene_keys: int = _doc("rendered scene: keyboard size 49 | 61 | 76 | 88", 61)
    scene_seconds: float = _doc("rendered scene: length in seconds", 10.0)
    scene_piece: str = _doc("rendered scene: scales | arpeggios | chords | crossings | mixed", "mixed")


@dataclass
class TrackerConfig:
    model_complexity: int = _doc("MediaPipe hand landmark model: 0 lite, 1 full", 0)
    max_hands: int = _doc("most hands to track", 2)
    min_detection_confidence: float = _doc("palm detector threshold", 0.5)
    min_tracking_confidence: float = _doc("landmark tracking threshold before re-detection", 0.5)
    mirrored: bool = _doc("the image is mirrored (selfie view); top-down cameras are not", False)
    tiles: int = _doc("1: MediaPipe sees the whole frame; 2: two overlapping halves, for a wide view where "
                      "hands are small (a whole 88-key keyboard); about twice the tracking time", 1)
    view: str = _doc("auto: where the key map says hands are small in the frame (under 15 % of its width, a whole "
                     "88-key keyboard), MediaPipe sees only the keys and the hands' reach, cut in overlapping pieces "
                     "stacked into one near-square image (one run a frame); keys: that view whenever a key map "
                     "exists; frame: always the whole frame. tiles = 2 overrides it", "auto")
    max_fps: float = _doc("most frames a second to track (0: as many as the board manages); frames beyond it are "
                          "skipped, notes still go out", 0.0)
    hot_temperature: float = _doc("SoC °C at which the unit lowers its work (a Pi 4 throttles at 80); metrics "
                                  "say throttled", 80.0)
    hot_fps: float = _doc("most frames a second tracked while that hot", 10.0)


@dataclass
class NotesConfig:
    kind: str = _doc("where notes come from: auto (the scene's MIDI, else a live MIDI keyboard) | none | "
                     "midi | midi-file | audio-file | microphone | vision (keys seen going down)", "auto")
    port: str = _doc("live MIDI: part of the port name to use; empty picks the first keyboard", "")
    path: str = _doc("midi-file / audio-file: the file to replay", "")
    device: str = _doc("microphone: the sound device name or index; empty for the default", "")
    camera_latency: float = _doc("seconds a frame arrives after the moment it shows (added to the note clock)", 0.0)


@dataclass
class CalibrationConfig:
    keymap: str = _doc("key map from `pianocam calibrate`; empty = <state dir>/keymap.json, made from the "
                       "first frame when missing", "")
    keys: int = _doc("keyboard size for automatic calibration: 0 infers it, else 49 | 61 | 76 | 88", 0)
    lowest: str = _doc("lowest key's name (A0, E1, C2…) for automatic calibration; empty infers it", "")
    first_c: str = _doc("the leftmost C in view (e.g. C3), for a camera that sees neither end of the keyboard", "")
    drift_interval: float = _doc("seconds between checks that the camera has not moved (0: never)", 300.0)


@dataclass
class TechniqueConfig:
    enabled: bool = _doc("estimate playing technique from hand motion (seed 000's model)", True)
    model_dir: str = _doc("folder with technique.<precision>.onnx and its manifest; empty = the shipped model", "")
    precision: str = _doc("int8 | fp32", "int8")
    format: str = _doc("onnx (onnxruntime) | tflite (LiteRT)", "onnx")
    stride: int = _doc("frames between estimates for a hand (each looks at the last 20 frames)", 10)


@dataclass
class MqttConfig:
    host: str = _doc("broker host name or address", "localhost")
    port: int = _doc("broker port", 1883)
    username: str = _doc("user name; empty for none", "")
    password: str = _doc("password (secret: prefer password_file or a systemd credential)", "", repr=False)
    password_file: str = _doc("file whose first line is the password", "")
    tls: bool = _doc("connect with TLS", False)
    ca_file: str = _doc("CA certificate for TLS; empty uses the system store", "")
    cert_file: str = _doc("client certificate for TLS", "")
    key_file: str = _doc("client key for TLS", "")
    keepalive: int = _doc("seconds between keep-alive pings", 30)
    base_topic: str = _doc("topic prefix; messages go to <base_topic>/<unit_id>/...", "pianocam")
    publish_hands: bool = _doc("also publish every frame's landmarks on the hands debug topic", False)
    home_assistant: bool = _doc("announce the unit to Home Assistant (MQTT discovery under homeassistant/)", False)


@dataclass
class JournalConfig:
    path: str = _doc("SQLite journal of events not yet acknowledged; empty = <state dir>/journal.sqlite", "")
    max_events: int = _doc("oldest events are dropped, counted and logged beyond this many", 100_000)
    max_mb: float = _doc("oldest events are dropped, counted and logged beyond this many MB of journal; on a "
                         "full disk, beyond what fits", 64.0)
    # Off by default: a Pi has no real-time clock, and when NTP sets its clock weeks forward after a
    # long power-off, events journalled before the sync would look weeks old.
    max_age_days: float = _doc("events waiting longer than this are dropped, counted and logged; 0: no limit "
                               "(the default, safe on units without a real-time clock)", 0.0)


@dataclass
class MetricsConfig:
    interval: float = _doc("seconds between retained metrics messages", 5.0)


@dataclass
class Config:
    unit_id: str = _doc("this unit's name in topics, [a-z0-9-]+; default the hostname", "")
    room: str = _doc("room name shown in the classroom view", "")
    log_level: str = _doc("DEBUG | INFO | WARNING | ERROR", "INFO")
    execution_provider: str = _doc("onnxruntime provider for the models (technique, basic-pitch): cpu | cuda | "
                                   "tensorrt (TensorRT, then CUDA) | auto (the best this onnxruntime has); the CPU "
                                   "stands in, logged, for one it lacks. On a Jetson install JetPack's "
                                   "onnxruntime-gpu wheel into .venv for cuda/tensorrt", "cpu")
    source: SourceConfig = _doc("frame source", default_factory=SourceConfig)
    tracker: TrackerConfig = _doc("hand tracker", default_factory=TrackerConfig)
    notes: NotesConfig = _doc("note source", default_factory=NotesConfig)
    calibration: CalibrationConfig = _doc("keyboard calibration", default_factory=CalibrationConfig)
    technique: TechniqueConfig = _doc("technique estimate", default_factory=TechniqueConfig)
    mqtt: MqttConfig = _doc("MQTT broker connection", default_factory=MqttConfig)
    journal: JournalConfig = _doc("store-and-forward journal", default_factory=JournalConfig)
    metrics: MetricsConfig = _doc("metrics publishing", default_factory=MetricsConfig)

    def journal_path(self) -> Path:
        return Path(self.journal.path or Path(default_state_dir()) / "journal.sqlite")

    def keymap_path(self) -> Path:
        return Path(self.calibration.keymap or Path(default_state_dir()) / "keymap.json")


_SECTIONS = ("source", "tracker", "notes", "calibration", "technique", "mqtt", "journal", "metrics")
# Secrets that may also come from a file: systemd credentials ($CREDENTIALS_DIRECTORY/<name>)
# or an explicit *_file key.
_SECRETS = {("mqtt", "password"): "mqtt.password"}


def _unknown(name: str, choices, where: str) -> ConfigError:
    close = difflib.get_close_matches(name, list(choices), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown config key '{where}{name}'{hint}")


def _coerce(value: Any, kind: type, key: str, from_text: bool) -> Any:
    """Check (or, for environment text, parse) one value against its declared type."""
    if from_text:
        text = value.strip()
        try:
            if kind is bool:
                if text.lower() in ("1", "true", "yes", "on"):
                    return True
                if text.lower() in ("0", "false", "no", "off"):
                    return False
                raise ValueError(text)
            return kind(text)
        except ValueError:
            raise ConfigError(f"config key '{key}' wants {kind.__name__}, got {value!r}") from None
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ConfigError(f"config key '{key}' wants {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def _apply(target: Any, values: dict, prefix: str, from_text: bool = False) -> None:
    hints = get_type_hints(type(target))
    names = {f.name for f in dataclasses.fields(target)}
    for name, value in values.items():
        if name not in names:
            raise _unknown(name, names, prefix)
        kind = hints[name]
        if dataclasses.is_dataclass(kind):
            if not isinstance(value, dict):
                raise ConfigError(f"config key '{prefix}{name}' is a section; write it as [{prefix}{name}]")
            _apply(getattr(target, name), value, f"{prefix}{name}.", from_text)
        else:
            setattr(target, name, _coerce(value, kind, prefix + name, from_text))


# PIANOCAM_* variables that are not config keys: the config file's path, set-up's options.
_NOT_CONFIG = {"PIANOCAM_CONFIG", "PIANOCAM_SYSTEM_SITE"}


def _environment_overrides(environ: dict) -> dict:
    """PIANOCAM_<SECTION>_<KEY> or PIANOCAM_<KEY> into a nested dict of text values."""
    overrides: dict = {}
    for var, text in environ.items():
        if not var.startswith("PIANOCAM_") or var in _NOT_CONFIG:
            continue
        rest = var[len("PIANOCAM_"):].lower()
        section = next((s for s in _SECTIONS if rest.startswith(s + "_")), None)
        if section:
            overrides.setdefault(section, {})[rest[len(section) + 1:]] = text
        else:
            overrides[rest] = text
    return overrides


def _read_secret(path: str, key: str) -> str:
    try:
        return Path(path).read_text().splitlines()[0].strip() if Path(path).stat().st_size else ""
    except OSError as err:
        raise ConfigError(f"config key '{key}': cannot read secret file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config key '{key}': secret file {path} is not UTF-8 text") from None


def load_config(path: str | os.PathLike | None = None, environ: dict | None = None) -> Config:
    """Build the config: defaults < TOML file < PIANOCAM_* variables < secret files."""
    environ = dict(os.environ if environ is None else environ)
    config = Config()
    path = path or environ.get("PIANOCAM_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {path}") from None
        except OSError as err:  # a directory, no permission
            raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"config file {path} is not UTF-8 text (TOML)") from None
        except tomllib.TOMLDecodeError as err:
            raise ConfigError(f"config file {path} is not valid TOML: {err}") from None
        _apply(config, data, "")
    try:
        _apply(config, _environment_overrides(environ), "", from_text=True)
    except ConfigError as err:
        raise ConfigError(f"{err} (from a PIANOCAM_* environment variable)") from None

    for (section, name), credential in _SECRETS.items():
        part = getattr(config, section)
        file_key = getattr(part, f"{name}_file")
        cred_dir = environ.get("CREDENTIALS_DIRECTORY")
        if file_key:
            setattr(part, name, _read_secret(file_key, f"{section}.{name}_file"))
        elif cred_dir and (Path(cred_dir) / credential).exists():
            setattr(part, name, _read_secret(str(Path(cred_dir) / credential), f"{section}.{name}"))

    if not config.unit_id:
        config.unit_id = default_unit_id()
    _validate(config)
    return config


def _validate(config: Config) -> None:
    if not re.fullmatch(r"[a-z0-9-]+", config.unit_id):
        raise ConfigError(f"config key 'unit_id' must match [a-z0-9-]+, got {config.unit_id!r}")
    choices = {
        "source.kind": (config.source.kind, ("scene", "video", "v4l2", "picamera", "gstreamer")),
        "source.scene_keys": (config.source.scene_keys, (49, 61, 76, 88)),
        "tracker.model_complexity": (config.tracker.model_complexity, (0, 1)),
        "tracker.tiles": (config.tracker.tiles, (1, 2)),
        "tracker.view": (config.tracker.view, ("auto", "keys", "frame")),
        "notes.kind": (config.notes.kind, ("auto", "none", "midi", "midi-file", "audio-file", "microphone", "vision")),
        "calibration.keys": (config.calibration.keys, (0, 49, 61, 76, 88)),
        "technique.precision": (config.technique.precision, ("int8", "fp32")),
        "technique.format": (config.technique.format, ("onnx", "tflite")),
        "log_level": (config.log_level.upper(), ("DEBUG", "INFO", "WARNING", "ERROR")),
        "execution_provider": (config.execution_provider, ("cpu", "cuda", "tensorrt", "auto")),
    }
    for key, (value, allowed) in choices.items():
        if value not in allowed:
            raise ConfigError(f"config key '{key}' must be one of {', '.join(map(str, allowed))}; got {value!r}")
    if config.source.kind in ("video",) and not config.source.uri:
        raise ConfigError("config key 'source.uri' is required when source.kind is 'video'")
    if config.notes.kind in ("midi-file", "audio-file") and not config.notes.path:
        raise ConfigError(f"config key 'notes.path' is required when notes.kind is '{config.notes.kind}'")
    if not 0 < config.mqtt.port < 65536:
        raise ConfigError(f"config key 'mqtt.port' must be 1-65535, got {config.mqtt.port}")
    if any(c in config.mqtt.base_topic for c in "+#") or not config.mqtt.base_topic:
        raise ConfigError(f"config key 'mqtt.base_topic' must be a plain topic, got {config.mqtt.base_topic!r}")
    positive = {"source.fps": config.source.fps, "source.read_timeout": config.source.read_timeout,
                "metrics.interval": config.metrics.interval, "mqtt.keepalive": config.mqtt.keepalive,
                "journal.max_events": config.journal.max_events, "technique.stride": config.technique.stride,
                "journal.max_mb": config.journal.max_mb, "tracker.max_hands": config.tracker.max_hands,
                "source.scene_seconds": config.source.scene_seconds}
    for key, value in positive.items():
        if not math.isfinite(value) or value <= 0:
            raise ConfigError(f"config key '{key}' must be a positive number, got {value!r}")
    for key, value in {"notes.camera_latency": config.notes.camera_latency, "source.width": config.source.width,
                       "calibration.drift_interval": config.calibration.drift_interval,
                       "source.height": config.source.height}.items():
        if not math.isfinite(value) or value < 0:
            raise ConfigError(f"config key '{key}' must be a finite number ≥ 0, got {value!r}")
    for key in ("min_detection_confidence", "min_tracking_confidence"):
        value = getattr(config.tracker, key)
        if not 0 <= value <= 1:  # MediaPipe takes any float, and above 1 finds no hand ever
            raise ConfigError(f"config key 'tracker.{key}' must be between 0 and 1, got {value!r}")
    if not math.isfinite(config.journal.max_age_days) or config.journal.max_age_days < 0:
        raise ConfigError(f"config key 'journal.max_age_days' must be a finite number ≥ 0, "
                          f"got {config.journal.max_age_days!r}")
    if config.mqtt.tls:
        for key in ("ca_file", "cert_file", "key_file"):
            path = getattr(config.mqtt, key)
            if path and not os.access(path, os.R_OK):
                raise ConfigError(f"config key 'mqtt.{key}': cannot read {path}")


def describe(config_type: type = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every key with its default and description, for `pianocam config --describe`."""
    rows = []
    hints = get_type_hints(config_type)
    for f in dataclasses.fields(config_type):
        if dataclasses.is_dataclass(hints[f.name]):
            rows += describe(hints[f.name], f"{prefix}{f.name}.")
        else:
            rows.append((prefix + f.name, repr(f.default), f.metadata.get("doc", "")))
    return rows


def as_dict(config: Config, hide_secrets: bool = True) -> dict:
    data = dataclasses.asdict(config)
    if hide_secrets:
        for section, name in _SECRETS:
            if data[section][name]:
                data[section][name] = "***"
    return data

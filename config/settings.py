"""The unit's config as pydantic models: every key typed, ranged and described, unknown keys refused."""
from __future__ import annotations

import os
import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, ValidationError

from pianocam.config.errors import OneOf, bounds, choices, one_line, unknown_key

# A unit's name in MQTT topics (and in systemd/install.sh, display/index.html); the one definition in Python.
UNIT_ID = re.compile(r"[a-z0-9-]+")


def default_unit_id() -> str:
    """The hostname squeezed into the topic-safe alphabet of UNIT_ID."""
    name = re.sub(r"[^a-z0-9-]+", "-", socket.gethostname().lower()).strip("-")
    return name or "pianocam"


def default_state_dir() -> str:
    # systemd's StateDirectory= sets STATE_DIRECTORY; elsewhere follow XDG.
    if os.environ.get("STATE_DIRECTORY"):
        return os.environ["STATE_DIRECTORY"].split(":")[0]
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return str(Path(base) / "pianocam")


def _unit_id(value: str) -> str:
    value = value or default_unit_id()
    if not UNIT_ID.fullmatch(value):
        raise ValueError(f"must match {UNIT_ID.pattern}")
    return value


def _plain_topic(value: str) -> str:
    if not value or any(c in value for c in "+#"):
        raise ValueError("must be a plain topic (not empty, no + or #)")
    return value


KeyboardSize = Annotated[int, AfterValidator(OneOf(49, 61, 76, 88))]
Confidence = Annotated[float, Field(ge=0, le=1)]  # MediaPipe takes any float, and above 1 finds no hand ever


class Section(BaseModel):
    """A table of the config file; an assignment is checked too, and a bad one is a one-line ConfigError."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    def __setattr__(self, name: str, value: Any) -> None:
        if name not in type(self).model_fields:
            raise unknown_key(name, type(self), self._prefix())
        try:
            super().__setattr__(name, value)
        except ValidationError as err:
            raise one_line(err, type(self), self._prefix()) from None

    @classmethod
    def _prefix(cls) -> str:
        return next((f"{name}." for name, f in Config.model_fields.items() if f.annotation is cls), "")


class SourceConfig(Section):
    kind: Literal["scene", "video", "v4l2", "picamera", "gstreamer"] = Field(
        "scene", description="where frames come from: a rendered scene, a video file or URL, a V4L2 device, the "
                             "Pi camera, or a GStreamer pipeline (a Jetson's CSI camera)")
    uri: str = Field("", description="video file path or URL (video), device path or index (v4l2); gstreamer: the "
                     "pipeline up to its last element, run by gst-launch-1.0 (the unit appends videoconvert to BGR "
                     "at width x height ! fdsink); empty: 'nvarguscamerasrc sensor-id=0 ! video/x-raw(memory:NVMM),"
                     "width=W,height=H,framerate=F/1 ! nvvidconv ! video/x-raw,format=BGRx', a Jetson's CSI camera 0")
    width: int = Field(960, ge=0, le=8192, description="requested frame width in pixels")
    height: int = Field(540, ge=0, le=8192, description="requested frame height in pixels")
    fps: float = Field(30.0, gt=0, le=1000, description="requested frame rate; file and scene sources are paced to it")
    read_timeout: float = Field(2.0, gt=0, description="seconds a read may wait for a frame before it is an error")
    loop: bool = Field(False, description="start a file or scene source again when it ends")
    realtime: bool = Field(True, description="pace file and scene sources to their frame rate")
    scene_seed: int = Field(7, ge=0, description="rendered scene: seed")  # numpy's generators refuse negative seeds
    scene_keys: KeyboardSize = Field(61, description="rendered scene: keyboard size")
    scene_seconds: float = Field(10.0, gt=0, description="rendered scene: length in seconds")
    scene_piece: Literal["scales", "arpeggios", "chords", "crossings", "mixed"] = Field(
        "mixed", description="rendered scene: what is played")


class TrackerConfig(Section):
    model_complexity: Annotated[int, AfterValidator(OneOf(0, 1))] = Field(
        0, description="MediaPipe hand landmark model: 0 lite, 1 full")
    max_hands: Literal["auto", 1, 2, 3, 4] = Field(
        "auto", description="most hands to track; auto: two (one player), up to four where more are seen (a piano "
                            "duet: two players at one keyboard), checked every 60 frames while two are tracked; where "
                            "hands are small in the frame (or there is no key map yet) the check looks at square tiles "
                            "as tall as the frame, and a tile showing hands nothing else tracks is tracked itself; a still "
                            "image showing more than four (a collage of insets) takes up to ten")
    min_detection_confidence: Confidence = Field(0.5, description="palm detector threshold")
    min_tracking_confidence: Confidence = Field(0.5, description="landmark tracking threshold before re-detection")
    mirrored: bool = Field(False, description="the image is mirrored (selfie view); top-down cameras are not")
    tiles: Annotated[int, AfterValidator(OneOf(1, 2))] = Field(
        1, description="1: MediaPipe sees the whole frame; 2: two overlapping halves, for a wide view where hands "
                       "are small (a whole 88-key keyboard); about twice the tracking time")
    view: Literal["auto", "keys", "frame"] = Field(
        "auto", description="auto: where the key map says hands are small in the frame (under 15 % of its width, "
                            "a whole 88-key keyboard), MediaPipe sees only the keys and the hands' reach, cut in "
                            "overlapping pieces stacked into one near-square image (one run a frame); keys: that view "
                            "whenever a key map exists; frame: always the whole frame. tiles = 2 overrides it")
    max_fps: float = Field(0.0, ge=0, description="most frames a second to track (0: as many as the board manages); "
                                                  "frames beyond it are skipped, notes still go out")
    hot_temperature: float = Field(80.0, gt=0, le=150, description="SoC °C at which the unit lowers its work (a Pi 4 "
                                                                  "throttles at 80); metrics say throttled")
    hot_fps: float = Field(10.0, gt=0, description="most frames a second tracked while that hot")


class NotesConfig(Section):
    kind: Literal["auto", "none", "midi", "midi-file", "audio-file", "microphone", "vision"] = Field(
        "auto", description="where notes come from: auto is the scene's MIDI, else a live MIDI keyboard; vision: "
                            "keys seen going down")
    port: str = Field("", description="live MIDI: part of the port name to use; empty picks the first keyboard")
    path: str = Field("", description="midi-file / audio-file: the file to replay")
    device: str = Field("", description="microphone: the sound device name or index; empty for the default")
    camera_latency: float = Field(0.0, ge=0, description="seconds a frame arrives after the moment it shows (added "
                                                        "to the note clock)")


class CalibrationConfig(Section):
    keymap: str = Field("", description="key map from `pianocam calibrate`; empty = <state dir>/keymap.json, made "
                                        "from the first frame when missing")
    keys: Annotated[int, AfterValidator(OneOf(0, 49, 61, 76, 88))] = Field(
        0, description="keyboard size for automatic calibration; 0 infers it")
    lowest: str = Field("", description="lowest key's name (A0, E1, C2…) for automatic calibration; empty infers it")
    first_c: str = Field("", description="the leftmost C in view (e.g. C3), for a camera that sees neither end of "
                                         "the keyboard")
    drift_interval: float = Field(300.0, ge=0, description="seconds between checks that the camera has not moved "
                                                          "(0: never)")


class TechniqueConfig(Section):
    enabled: bool = Field(True, description="estimate playing technique from hand motion (seed 000's model)")
    model_dir: str = Field("", description="folder with technique.<precision>.onnx and its manifest; empty = the "
                                           "shipped model")
    precision: Literal["int8", "fp32"] = Field("int8", description="the model's weights")
    format: Literal["onnx", "tflite"] = Field("onnx", description="onnx runs on onnxruntime, tflite on LiteRT")
    stride: int = Field(10, ge=1, description="frames between estimates for a hand (each looks at the last 20 "
                                              "frames)")


class MqttConfig(Section):
    host: str = Field("localhost", description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    username: str = Field("", description="user name; empty for none")
    password: SecretStr = Field(SecretStr(""), description="password (secret: prefer password_file or a systemd "
                                                           "credential)")
    password_file: str = Field("", description="file whose first line is the password")
    tls: bool = Field(False, description="connect with TLS")
    ca_file: str = Field("", description="CA certificate for TLS; empty uses the system store")
    cert_file: str = Field("", description="client certificate for TLS")
    key_file: str = Field("", description="client key for TLS")
    keepalive: int = Field(30, ge=1, le=65535, description="seconds between keep-alive pings")  # MQTT's 16 bits
    base_topic: Annotated[str, AfterValidator(_plain_topic)] = Field(
        "pianocam", description="topic prefix; messages go to <base_topic>/<unit_id>/...")
    publish_hands: bool = Field(False, description="also publish every frame's landmarks on the hands debug topic")
    home_assistant: bool = Field(False, description="announce the unit to Home Assistant (MQTT discovery under "
                                                    "homeassistant/)")


class JournalConfig(Section):
    path: str = Field("", description="SQLite journal of events not yet acknowledged; empty = <state "
                                      "dir>/journal.sqlite")
    max_events: int = Field(100_000, ge=1, description="oldest events are dropped, counted and logged beyond this "
                                                       "many")
    max_mb: float = Field(64.0, gt=0, description="oldest events are dropped, counted and logged beyond this many MB "
                                                  "of journal; on a full disk, beyond what fits")
    # Off by default: a Pi has no real-time clock, and when NTP sets its clock weeks forward after a
    # long power-off, events journalled before the sync would look weeks old.
    max_age_days: float = Field(0.0, ge=0, description="events waiting longer than this are dropped, counted and "
                                                       "logged; 0: no limit (the default, safe on units without a "
                                                       "real-time clock)")


class MetricsConfig(Section):
    interval: float = Field(5.0, gt=0, description="seconds between retained metrics messages")


class Config(Section):
    unit_id: Annotated[str, AfterValidator(_unit_id)] = Field(
        "", validate_default=True, description=f"this unit's name in topics, {UNIT_ID.pattern}; empty: the hostname")
    room: str = Field("", description="room name shown in the classroom view")
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"],
                         BeforeValidator(lambda v: v.upper() if isinstance(v, str) else v)] = Field(
        "INFO", description="how much the unit logs")
    execution_provider: Literal["cpu", "cuda", "tensorrt", "auto"] = Field(
        "cpu", description="onnxruntime provider for the models (technique, basic-pitch): tensorrt tries TensorRT, "
                           "then CUDA; auto takes the best this onnxruntime has; the CPU stands in, logged, for one "
                           "it lacks. On a Jetson install JetPack's onnxruntime-gpu wheel into .venv for "
                           "cuda/tensorrt")
    source: SourceConfig = Field(default_factory=SourceConfig, description="frame source")
    tracker: TrackerConfig = Field(default_factory=TrackerConfig, description="hand tracker")
    notes: NotesConfig = Field(default_factory=NotesConfig, description="note source")
    calibration: CalibrationConfig = Field(default_factory=CalibrationConfig, description="keyboard calibration")
    technique: TechniqueConfig = Field(default_factory=TechniqueConfig, description="technique estimate")
    mqtt: MqttConfig = Field(default_factory=MqttConfig, description="MQTT broker connection")
    journal: JournalConfig = Field(default_factory=JournalConfig, description="store-and-forward journal")
    metrics: MetricsConfig = Field(default_factory=MetricsConfig, description="metrics publishing")

    def journal_path(self) -> Path:
        return Path(self.journal.path or Path(default_state_dir()) / "journal.sqlite")

    def keymap_path(self) -> Path:
        return Path(self.calibration.keymap or Path(default_state_dir()) / "keymap.json")


def sections() -> dict[str, type[Section]]:
    """The config file's tables by name: [source], [tracker], ..."""
    return {name: f.annotation for name, f in Config.model_fields.items()
            if isinstance(f.annotation, type) and issubclass(f.annotation, Section)}


def secrets() -> list[tuple[str, str]]:
    """(section, key) of every SecretStr; each may come from <key>_file or a systemd credential <section>.<key>."""
    return [(name, key) for name, model in sections().items()
            for key, f in model.model_fields.items() if f.annotation is SecretStr]


def describe(model: type[Section] = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """Every key with its default and description, its choices or range after it, for `pianocam config --describe`."""
    rows = []
    for name, f in model.model_fields.items():
        if name in sections() and model is Config:
            rows += describe(f.annotation, f"{name}.")
            continue
        default = f.default.get_secret_value() if isinstance(f.default, SecretStr) else f.default
        allowed = choices(f)
        limits = " | ".join(map(str, allowed)) if allowed else bounds(f)
        rows.append((prefix + name, repr(default), f.description + (f" [{limits}]" if limits else "")))
    return rows


def as_dict(config: Config, hide_secrets: bool = True) -> dict:
    """The config as plain data for JSON; a set secret shows as *** unless hide_secrets is off."""
    data = config.model_dump()
    for section, key in secrets():
        secret = data[section][key].get_secret_value()
        data[section][key] = "***" if secret and hide_secrets else secret
    return data

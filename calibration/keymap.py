"""The key map: where every key lies in the image, and which key a pixel is on."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

KEYMAP_SCHEMA = 1

# The keyboard plane is measured in nominal millimetres of a standard action: x along the
# keys from the left edge of C-1, y from the keys' back edge towards the player.
WHITE_KEY_WIDTH = 23.5
WHITE_KEY_LENGTH = 150.0
BLACK_KEY_WIDTH = 13.7
BLACK_KEY_LENGTH = 95.0
OCTAVE_WIDTH = 7 * WHITE_KEY_WIDTH
# At the back the twelve keys of an octave share its width equally (the layout of real
# actions), so a black key's centre sits at (midi + 0.5) semitone widths.
SEMITONE_WIDTH = OCTAVE_WIDTH / 12
# Where a fingertip strikes, as a share of the key's length from the back: white keys on
# their wide front part, black keys near their front. A key's "centre" is this point.
WHITE_STRIKE = 122.0 / WHITE_KEY_LENGTH
BLACK_STRIKE = 68.0 / BLACK_KEY_LENGTH

NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
BLACK_PITCH_CLASSES = frozenset((1, 3, 6, 8, 10))
_WHITE_STEP = {0: 0, 2: 1, 4: 2, 5: 3, 7: 4, 9: 5, 11: 6}
_FLATS = {"Db": "C#", "Eb": "D#", "Gb": "F#", "Ab": "G#", "Bb": "A#"}
# Standard keyboards: key count -> lowest key.
STANDARD_LOWEST = {88: 21, 76: 28, 61: 36, 49: 36}


def note_name(midi: int) -> str:
    return f"{NOTE_NAMES[midi % 12]}{midi // 12 - 1}"


def parse_note(name: str) -> int:
    """'C4' -> 60, 'A0' -> 21, 'F#3'/'Gb3' -> 54."""
    m = re.fullmatch(r"\s*([A-Ga-g])([#b]?)(-?\d)\s*", name or "")
    if not m:
        raise ValueError(f"not a note name: {name!r} (expected e.g. A0, E1, C2, F#3)")
    letter, accidental, octave = m.group(1).upper(), m.group(2), int(m.group(3))
    pc_name = _FLATS.get(letter + accidental, letter + accidental)
    if pc_name not in NOTE_NAMES:
        raise ValueError(f"not a note name: {name!r}")
    midi = (octave + 1) * 12 + NOTE_NAMES.index(pc_name)
    if not 0 <= midi <= 127:
        raise ValueError(f"note {name!r} is outside MIDI 0..127")
    return midi


def is_black(midi: int) -> bool:
    return midi % 12 in BLACK_PITCH_CLASSES


def key_span(midi: int) -> tuple[float, float]:
    """Left and right edge of a key in the keyboard plane (mm)."""
    if is_black(midi):
        x0 = midi * SEMITONE_WIDTH + (SEMITONE_WIDTH - BLACK_KEY_WIDTH) / 2
        return x0, x0 + BLACK_KEY_WIDTH
    x0 = ((midi // 12) * 7 + _WHITE_STEP[midi % 12]) * WHITE_KEY_WIDTH
    return x0, x0 + WHITE_KEY_WIDTH


def key_length(midi: int, black_length: float = BLACK_KEY_LENGTH) -> float:
    return black_length if is_black(midi) else WHITE_KEY_LENGTH


def key_rectangle(midi: int, black_length: float = BLACK_KEY_LENGTH) -> np.ndarray:
    """Back-left, back-right, front-right, front-left corners in the plane (4x2, mm)."""
    x0, x1 = key_span(midi)
    y1 = key_length(midi, black_length)
    return np.array([[x0, 0.0], [x1, 0.0], [x1, y1], [x0, y1]])


def strike_point(midi: int, black_length: float = BLACK_KEY_LENGTH) -> np.ndarray:
    x0, x1 = key_span(midi)
    share = BLACK_STRIKE if is_black(midi) else WHITE_STRIKE
    return np.array([(x0 + x1) / 2, share * key_length(midi, black_length)])


def apply_homography(h: np.ndarray, points) -> np.ndarray:
    """Map Nx2 points through a 3x3 homography."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    q = np.column_stack([p, np.ones(len(p))]) @ np.asarray(h, dtype=np.float64).T
    return q[:, :2] / q[:, 2:3]


def undistort_points(points, k1: float, size) -> np.ndarray:
    """Image points as a lens without barrel distortion would place them (k1: radial coefficient)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not k1:
        return p
    c = np.array(size, float) / 2
    f = float(np.hypot(*c))
    d = (p - c) / f
    return c + (p - c) * (1 + k1 * np.sum(d * d, axis=1, keepdims=True))


def distort_points(points, k1: float, size) -> np.ndarray:
    """The inverse of undistort_points: where the lens puts an undistorted point."""
    q = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if not k1:
        return q
    c = np.array(size, float) / 2
    f = float(np.hypot(*c))
    target = (q - c) / f
    d = target.copy()
    for _ in range(12):
        d = target / (1 + k1 * np.sum(d * d, axis=1, keepdims=True))
    return c + d * f


def warp_offset(warp: dict, x) -> np.ndarray:
    """The row warp's correction (mm) at plane x: a cubic in x about the warp's centre."""
    u = (np.asarray(x, float) - warp["centre"]) / warp["scale"]
    return np.polyval(warp["coef"], u)


@dataclass(frozen=True)
class Key:
    midi: int
    black: bool
    polygon: np.ndarray   # 4x2 image pixels: back-left, back-right, front-right, front-left
    center: np.ndarray    # image pixels of the strike point

    @property
    def name(self) -> str:
        return note_name(self.midi)


@dataclass
class KeyMap:
    """Keys located in one camera view; `homography` maps image pixels to the keyboard plane."""

    image_size: tuple[int, int]
    homography: np.ndarray
    keys: list[Key]
    partial: bool = False
    notes: list[str] = field(default_factory=list)   # why partial, what was assumed
    keyboard_keys: int | None = None                 # 88, 76, ... when known
    lowest: int | None = None                        # lowest MIDI of the whole keyboard, when known
    black_key_length: float = BLACK_KEY_LENGTH
    method: str = "auto"
    lens_k1: float = 0.0                             # barrel distortion undone before the homography
    row_warp: dict = field(default_factory=dict)     # {"centre", "scale", "coef"}: plane x += cubic(x), mm
    numbered_by: str | None = None                   # "ends", "keyboard size", "notes" or "hint"
    ends: dict = field(default_factory=dict)         # side -> what lies beyond the last key found

    def __post_init__(self):
        self.homography = np.asarray(self.homography, dtype=np.float64)
        self._by_midi = {k.midi: k for k in self.keys}
        self._plane_to_image = np.linalg.inv(self.homography)

    # --- geometry -------------------------------------------------------------------
    def to_plane(self, points) -> np.ndarray:
        q = apply_homography(self.homography, undistort_points(points, self.lens_k1, self.image_size))
        if self.row_warp:
            q[:, 0] += warp_offset(self.row_warp, q[:, 0])
        return q

    def to_image(self, points) -> np.ndarray:
        q = np.asarray(points, dtype=np.float64).reshape(-1, 2).copy()
        if self.row_warp:
            target = q[:, 0].copy()
            for _ in range(8):  # x + warp(x) = target: the warp is a few mm, so this settles at once
                q[:, 0] = target - warp_offset(self.row_warp, q[:, 0])
        return distort_points(apply_homography(self._plane_to_image, q), self.lens_k1, self.image_size)

    def key(self, midi: int) -> Key | None:
        return self._by_midi.get(midi)

    @property
    def midis(self) -> list[int]:
        return [k.midi for k in self.keys]

    def key_at(self, x: float, y: float) -> Key | None:
        """The key under image point (x, y), or None off the mapped keys."""
        px, py = self.to_plane([(x, y)])[0]
        return self.key_at_plane(px, py)

    def key_at_plane(self, px: float, py: float) -> Key | None:
        """The key under plane point (px, py) mm, or None off the mapped keys."""
        if not 0.0 <= py <= WHITE_KEY_LENGTH:
            return None
        if py <= self.black_key_length:
            # Black keys sit on top: test them first.
            semitone = int(np.floor(px / SEMITONE_WIDTH))
            for midi in (semitone - 1, semitone, semitone + 1):
                if is_black(midi) and midi in self._by_midi:
                    x0, x1 = key_span(midi)
                    if x0 <= px < x1:
                        return self._by_midi[midi]
        white = int(np.floor(px / WHITE_KEY_WIDTH))
        midi = (white // 7) * 12 + (0, 2, 4, 5, 7, 9, 11)[white % 7]
        return self._by_midi.get(midi)

    def distance(self, a, b) -> float:
        """Distance between two image points in white-key widths, measured on the keyboard."""
        pa, pb = self.to_plane([a, b])
        return float(np.hypot(*(pa - pb)) / WHITE_KEY_WIDTH)

    def distance_along(self, a, b) -> float:
        """Signed distance along the keyboard (left to right) in white-key widths."""
        pa, pb = self.to_plane([a, b])
        return float((pb[0] - pa[0]) / WHITE_KEY_WIDTH)

    def distance_to_key(self, point, midi: int) -> float:
        """From an image point to a key's strike point, in white-key widths."""
        return self.distance(point, self._by_midi[midi].center)

    @property
    def white_key_width_px(self) -> float:
        """Median white-key width in image pixels over the mapped keys."""
        widths = [np.hypot(*(k.polygon[1] - k.polygon[0])) for k in self.keys if not k.black]
        return float(np.median(widths)) if widths else float("nan")

    # --- file format ----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema": KEYMAP_SCHEMA,
            "kind": "pianocam.keymap",
            "image_size": list(self.image_size),
            "homography": [[float(v) for v in row] for row in self.homography],
            "plane": {"units": "mm", "origin": "left edge of C-1, back edge of the keys",
                      "white_key_width": WHITE_KEY_WIDTH, "white_key_length": WHITE_KEY_LENGTH,
                      "black_key_length": round(self.black_key_length, 3)},
            "partial": self.partial,
            "notes": list(self.notes),
            "keyboard": {"keys": self.keyboard_keys,
                         "lowest": note_name(self.lowest) if self.lowest is not None else None},
            "method": self.method,
            "lens": {"k1": round(self.lens_k1, 5)},
            "row_warp": dict(self.row_warp),
            "numbered_by": self.numbered_by,
            "ends": dict(self.ends),
            "keys": [{"midi": k.midi, "name": k.name, "black": k.black,
                      "polygon": [[round(float(v), 2) for v in p] for p in k.polygon],
                      "center": [round(float(v), 2) for v in k.center]} for k in self.keys],
        }

    @classmethod
    def from_dict(cls, data: dict) -> "KeyMap":
        if not isinstance(data, dict):
            raise ValueError(f"not a pianocam keymap (a JSON {type(data).__name__}, not an object)")
        try:
            return cls._from_dict(data)
        except (KeyError, TypeError, AttributeError, IndexError) as err:  # a field of the wrong shape
            raise ValueError(f"unusable keymap field: {type(err).__name__}: {err}") from None

    @classmethod
    def _from_dict(cls, data: dict) -> "KeyMap":
        if data.get("kind") != "pianocam.keymap":
            raise ValueError("not a pianocam keymap (missing kind: pianocam.keymap)")
        if data.get("schema") != KEYMAP_SCHEMA:
            raise ValueError(f"keymap schema {data.get('schema')} is not supported (this build reads "
                             f"{KEYMAP_SCHEMA}); run pianocam calibrate again")
        keys = [Key(int(k["midi"]), bool(k["black"]), np.asarray(k["polygon"], float),
                    np.asarray(k["center"], float)) for k in data["keys"]]
        board = data.get("keyboard") or {}
        lowest = board.get("lowest")
        return cls(image_size=tuple(data["image_size"]), homography=np.asarray(data["homography"], float),
                   keys=keys, partial=bool(data.get("partial")), notes=list(data.get("notes", [])),
                   keyboard_keys=board.get("keys"), lowest=parse_note(lowest) if lowest else None,
                   black_key_length=float(data.get("plane", {}).get("black_key_length", BLACK_KEY_LENGTH)),
                   method=data.get("method", "auto"), lens_k1=float((data.get("lens") or {}).get("k1", 0.0)),
                   numbered_by=data.get("numbered_by"), ends=dict(data.get("ends") or {}),
                   row_warp=dict(data.get("row_warp") or {}))

    def save(self, path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1))

    @classmethod
    def load(cls, path) -> "KeyMap":
        try:
            data = json.loads(Path(path).read_text())
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}: not JSON ({err})") from err
        return cls.from_dict(data)


def build_keymap(homography: np.ndarray, image_size: tuple[int, int], midis, *,
                 black_key_length: float = BLACK_KEY_LENGTH, lens_k1: float = 0.0, row_warp: dict | None = None,
                 **info) -> KeyMap:
    """Lay out the given keys through an image -> plane mapping (homography, after undoing the lens)."""
    keymap = KeyMap(image_size=tuple(int(v) for v in image_size), homography=homography, keys=[],
                    black_key_length=black_key_length, lens_k1=lens_k1, row_warp=dict(row_warp or {}), **info)
    keys = []
    for midi in midis:
        poly = keymap.to_image(key_rectangle(midi, black_key_length))
        centre = keymap.to_image(strike_point(midi, black_key_length)[None])[0]
        keys.append(Key(midi, is_black(midi), poly, centre))
    keymap.keys = keys
    keymap._by_midi = {k.midi: k for k in keys}
    return keymap

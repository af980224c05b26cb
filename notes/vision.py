"""Vision-only notes, the fallback with no MIDI and no microphone: a key whose uncovered part
darkens (a pressed key tilts away from the light) while a fingertip is on it."""
from __future__ import annotations

import collections
import logging
from typing import Callable

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap, is_black, key_span
from pianocam.hands.tracker import FINGERTIPS, Hands
from pianocam.notes import NoteEvent, NoteSource

logger = logging.getLogger(__name__)

CONFIDENCE = 0.5  # vision alone can't time a 25 ms keystroke; its notes say so
# The bones of a hand as MediaPipe numbers its landmarks: a sample point near one is covered.
BONES = ((0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (5, 9), (9, 10), (10, 11),
         (11, 12), (9, 13), (13, 14), (14, 15), (15, 16), (13, 17), (17, 18), (18, 19), (19, 20), (0, 17))
FINGER_HALF_WIDTH = 28.0  # mm: this close to a bone, a sample may be under the finger or its shadow
MIN_SAMPLES = 3
MAX_HOLD = 8.0  # s: a key "held" longer was darkened by the light changing, not by a finger


def _sample_plane(keymap: KeyMap, midi: int) -> np.ndarray:
    """Points (keyboard plane, mm) on a key's top, clear of the neighbouring black keys."""
    x0, x1 = key_span(midi)
    xs = np.linspace(x0 + 2.5, x1 - 2.5, 4)
    if is_black(midi):
        ys = np.linspace(10.0, keymap.black_key_length - 8, 6)
        return np.array([(x, y) for x in xs for y in ys])
    return white_key_top(midi, xs, np.linspace(10.0, keymap.black_key_length - 5, 5),
                         np.linspace(keymap.black_key_length + 5, 140.0, 4))


def white_key_top(midi: int, xs, back_ys, front_ys) -> np.ndarray:
    """Plane points (mm) on a white key's top: the grid xs x back_ys where no neighbouring black key lies
    (between the black keys), and the whole grid xs x front_ys (in front of them)."""
    blocked = [key_span(m) for m in (midi - 1, midi + 1) if is_black(m)]
    back = [(x, y) for x in xs if not any(b0 - 1 <= x <= b1 + 1 for b0, b1 in blocked) for y in back_ys]
    front = [(x, y) for x in xs for y in front_ys]
    return np.array(back + front)


def distance_to_bones(points: np.ndarray, joints: np.ndarray) -> np.ndarray:
    """Distance of each point to the nearest bone of one hand (all in plane mm)."""
    a = joints[[b[0] for b in BONES]]
    b = joints[[b[1] for b in BONES]]
    ab = b - a
    t = np.clip(((points[:, None, :] - a[None]) * ab[None]).sum(-1) / np.maximum((ab ** 2).sum(-1), 1e-9), 0, 1)
    nearest = a[None] + t[..., None] * ab[None]
    return np.sqrt(((points[:, None, :] - nearest) ** 2).sum(-1)).min(axis=1)


class KeyPressDetector:
    """Tracks each sample point's brightness against its own unpressed level; a key whose uncovered
    points darken together under a fingertip is pressed."""

    def __init__(self, keymap: KeyMap, drop: float = 0.14, decay: float = 0.998):
        self.keymap = keymap
        self.drop = drop
        self.decay = decay
        width, height = keymap.image_size
        plane, image, owner = [], [], []
        for key in keymap.keys:
            pts = _sample_plane(keymap, key.midi)
            img = keymap.to_image(pts)
            inside = (img[:, 0] >= 0) & (img[:, 0] < width - 1) & (img[:, 1] >= 0) & (img[:, 1] < height - 1)
            if inside.sum() >= MIN_SAMPLES:
                plane.append(pts[inside])
                image.append(img[inside])
                owner += [key.midi] * int(inside.sum())
        self._plane = np.vstack(plane)
        self._pixels = np.vstack(image).round().astype(int)
        self._owner = np.array(owner)
        self._midis = np.unique(self._owner)
        self._reference = np.full(len(self._owner), np.nan)
        self._down: dict[int, NoteEvent] = {}
        self._up: dict[int, int] = {}

    def update(self, image: np.ndarray, hands: Hands, t: float) -> list[NoteEvent]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32)
        level = grey[self._pixels[:, 1], self._pixels[:, 0]]
        covered = np.zeros(len(level), bool)
        tips = np.zeros((0, 2))
        for hand in hands.hands:
            joints = self.keymap.to_plane(hand.landmarks[:, :2])
            covered |= distance_to_bones(self._plane, joints) < FINGER_HALF_WIDTH
            tips = np.vstack([tips, joints[list(FINGERTIPS.values())]])
        reference = np.where(np.isnan(self._reference), level, self._reference)
        ratio = level / np.maximum(reference, 1.0)
        onsets = []
        for midi in self._midis:
            mine = self._owner == midi
            seen = mine & ~covered
            x0, x1 = key_span(midi)
            # A fingertip on the key itself, not merely near it: hand shadows darken neighbours too.
            finger_on = bool(len(tips)) and bool(np.any((tips[:, 0] > x0 - 2) & (tips[:, 0] < x1 + 2)
                                                        & (tips[:, 1] > 0) & (tips[:, 1] < 150)))
            if seen.sum() < MIN_SAMPLES:
                continue  # too little of the key in view to judge this frame
            darkening = 1 - float(np.median(ratio[seen]))
            pressed = darkening > self.drop
            if midi in self._down:
                # Released only once clearly back up for two frames: a flicker is no new note.
                self._up[midi] = self._up.get(midi, 0) + 1 if darkening < self.drop / 2 else 0
                if self._up[midi] >= 2 or t - self._down[midi].onset > MAX_HOLD:
                    self._down.pop(midi).offset = t
                    self._up[midi] = 0
            elif pressed and finger_on:
                note = NoteEvent(int(midi), t, None, 64, "vision", CONFIDENCE)
                self._down[int(midi)] = note
                onsets.append(note)
            if midi not in self._down:
                # The unpressed level follows slow light changes but not a press.
                self._reference[seen] = np.maximum(level[seen], reference[seen] * self.decay)
        return onsets


class VisionNoteSource(NoteSource):
    """Notes from the camera alone; the pipeline shows it every frame (observe) before polling."""

    name = "vision"

    def __init__(self, keymap_of: Callable[[], KeyMap | None]):
        self._keymap_of = keymap_of
        self._detector: KeyPressDetector | None = None
        self._ready: collections.deque[NoteEvent] = collections.deque()

    def observe(self, image: np.ndarray, hands: Hands) -> None:
        keymap = self._keymap_of()
        if keymap is None:
            return
        if self._detector is None or self._detector.keymap is not keymap:
            self._detector = KeyPressDetector(keymap)
        self._ready.extend(self._detector.update(image, hands, hands.t))

    def poll(self, timeout: float = 0.0) -> list[NoteEvent] | None:
        notes = list(self._ready)
        self._ready.clear()
        return notes

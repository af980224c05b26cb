"""Vision-only notes, the fallback with no MIDI and no microphone: a key whose visible back part
darkens (a pressed key tilts away from the light) while a fingertip is on it."""
from __future__ import annotations

import collections
import logging
from typing import Callable

import cv2
import numpy as np

from ..hands import FINGERTIPS, Hands
from ..keyboard import WHITE_KEY_WIDTH, KeyMap, is_black, key_span
from . import NoteEvent, NoteSource

logger = logging.getLogger(__name__)

# Back part of each key (mm from the fallboard): fingers rarely cover it, and a pressed key's
# tilt shows there as well as at the front.
BACK = (12.0, 55.0)
CONFIDENCE = 0.5  # vision alone can't time a 25 ms keystroke; its notes say so


def _sample_points(keymap: KeyMap, midi: int) -> np.ndarray:
    """Image points on the visible back part of a key, clear of the neighbouring black keys."""
    x0, x1 = key_span(midi)
    xs = np.linspace(x0 + 2, x1 - 2, 5)
    if not is_black(midi):
        blocked = [key_span(m) for m in (midi - 1, midi + 1) if is_black(m)]
        xs = np.array([x for x in xs if not any(b0 - 1 <= x <= b1 + 1 for b0, b1 in blocked)])
        if not len(xs):  # a white key whose back is all under black keys: sample in front of them
            xs = np.linspace(x0 + 3, x1 - 3, 4)
    ys = np.linspace(*BACK, 5) if is_black(midi) else np.linspace(keymap.black_key_length + 5, 115, 4)
    plane = np.array([(x, y) for x in xs for y in ys])
    return keymap.to_image(plane)


class KeyPressDetector:
    """Tracks each key's brightness against its own unpressed level; a drop under a fingertip is a press."""

    def __init__(self, keymap: KeyMap, drop: float = 0.11, decay: float = 0.998):
        self.keymap = keymap
        self.drop = drop
        self.decay = decay
        width, height = keymap.image_size
        self._points = {}
        for key in keymap.keys:
            pts = _sample_points(keymap, key.midi)
            inside = (pts[:, 0] >= 0) & (pts[:, 0] < width - 1) & (pts[:, 1] >= 0) & (pts[:, 1] < height - 1)
            if inside.sum() >= 3:
                self._points[key.midi] = pts[inside].round().astype(int)
        self._reference: dict[int, float] = {}
        self._down: dict[int, NoteEvent] = {}

    def update(self, image: np.ndarray, hands: Hands, t: float) -> list[NoteEvent]:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        tips = [self.keymap.to_plane(h.landmarks[list(FINGERTIPS.values()), :2]) for h in hands.hands]
        tips = np.vstack(tips) if tips else np.zeros((0, 2))
        covered = [self.keymap.to_plane(h.landmarks[:, :2]) for h in hands.hands]
        covered = np.vstack(covered) if covered else np.zeros((0, 2))
        onsets = []
        for midi, points in self._points.items():
            level = float(grey[points[:, 1], points[:, 0]].mean())
            x0, x1 = key_span(midi)
            # A hand landmark over the sampled strip would darken it by itself: no verdict then.
            occluded = bool(len(covered)) and bool(np.any((covered[:, 0] > x0 - 4) & (covered[:, 0] < x1 + 4)
                                                          & (covered[:, 1] < 120 if not is_black(midi) else
                                                             covered[:, 1] < BACK[1] + 5)))
            reference = self._reference.get(midi, level)
            finger_on = bool(len(tips)) and bool(np.any(np.abs(tips[:, 0] - (x0 + x1) / 2) < 0.6 * WHITE_KEY_WIDTH))
            pressed = level < reference * (1 - self.drop) and finger_on
            if midi in self._down:
                if not pressed and not occluded:
                    self._down.pop(midi).offset = t
            elif pressed and not occluded:
                note = NoteEvent(midi, t, None, 64, "vision", CONFIDENCE)
                self._down[midi] = note
                onsets.append(note)
            if not occluded and midi not in self._down:
                # The unpressed level follows slow light changes but not a press.
                self._reference[midi] = max(level, reference * self.decay)
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

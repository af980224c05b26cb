"""Vision-only notes from strokes and key motion together: a fingertip rising into a key, and that key's band moving.

Each cue alone is weak on real footage (the real Ode to Joy close-up: fingertip strokes F1 0.75, its
keys' band motion alone ~0.6), but a pressing finger shows both at once while a neighbour lifting shows
only the first and a hand's shadow only the second. Both are scored in units of the clip's own spread
(a thumb's rise against the thumb's noise, a key's change against that key's), so no pixel or
millimetre threshold carries over from one camera to another.
"""
from __future__ import annotations

import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.hands.steady import in_reference
from pianocam.hands.tracker import Hands
from pianocam.notes import NoteEvent
from pianocam.notes.strokes import CONFIDENCE, KNUCKLES, LEAD_S, PAD_SHARE, PADS, REFRACTORY_S, RISE_FRAMES, TIPS, StrokeDetector

# Set on the rendered benchmark scenes and the real Ode to Joy close-up
# (benchmarks/fingering_real.py; the partial-keyboard clip is held out).
MEDIAN_FRAMES = 3      # a single-frame tracker jump (the close-up has four, all fingers 15 mm at once) is no stroke
REST_FRAMES = 30       # a key's resting level: the median of its last second
KEY_WINDOW = 2         # frames either side of a fingertip's rise in which its key's band may move
KEY_WEIGHT = 1.0       # a key-band z-score counts this much beside the fingertip's rise z-score
PRESS_SCORE = 5.0      # rise z + weight x key z above this is a press
KEY_CAP = 10.0         # a key's z-score counts up to this: a rendered key's spread is near zero, so any change is huge
RISE_NOISE = 1.0       # mm: a finger's spread is taken as at least this (MediaPipe's jitter on a still hand)
LEVEL_NOISE = 1.0      # grey levels: a key's spread is taken as at least this (8-bit video's own noise)
PRESS_SHARE = 0.7      # a key counts where its fingertip scores this share of the frame's best (chords)
PRESS_NMS = 5          # frames: one press per key within this many frames either side (its best frame)


def robust_z(values: np.ndarray, axis: int = 0, floor: float = 1e-6) -> np.ndarray:
    """Values over their own median absolute deviation (x 1.4826, a standard deviation for normal noise),
    the spread taken as at least `floor`."""
    centre = np.nanmedian(values, axis=axis, keepdims=True)
    spread = np.nanmedian(np.abs(values - centre), axis=axis, keepdims=True) * 1.4826
    return values / np.maximum(spread, floor)


def key_motion_z(levels: np.ndarray, lag: int = RISE_FRAMES, rest_frames: int = REST_FRAMES) -> np.ndarray:
    """(frames, keys) z-score of each key's band level changing over `lag` frames, counted only where the
    change takes the key away from its resting level (a press; the release coming back is no new note)."""
    levels = forward_filled(levels)
    change = np.full_like(levels, np.nan)
    change[lag:] = levels[lag:] - levels[:-lag]
    rest = np.array([np.nanmedian(levels[max(0, i - rest_frames):i + 1], axis=0) for i in range(len(levels))])
    before = np.vstack([levels[:lag], levels[:-lag]]) if len(levels) > lag else levels
    away = np.abs(levels - rest) > np.abs(before - rest)
    return np.minimum(np.nan_to_num(np.abs(robust_z(change, floor=LEVEL_NOISE))), KEY_CAP) * away


def forward_filled(values: np.ndarray) -> np.ndarray:
    """(frames, columns) with each NaN replaced by the column's last value seen (a key hidden for a while
    keeps the level it had when last seen)."""
    out = values.copy()
    for i in range(1, len(out)):
        gap = np.isnan(out[i])
        out[i, gap] = out[i - 1, gap]
    return out


def finger_rise_z(plane: np.ndarray, lag: int = RISE_FRAMES) -> np.ndarray:
    """(frames, 5) z-score of each fingertip's rise along the keys relative to its knuckle over `lag`
    frames, in units of that finger's own spread over the clip (a thumb moves less than a middle finger).
    plane: (frames, 21, 2) landmarks on the keyboard plane, NaN where the hand was not seen."""
    reach = plane[:, TIPS, 1] - plane[:, KNUCKLES, 1]
    rise = np.full_like(reach, np.nan)
    rise[lag:] = reach[lag:] - reach[:-lag]
    return np.nan_to_num(robust_z(rise, floor=RISE_NOISE))


def median_filtered(plane: np.ndarray, frames: int = MEDIAN_FRAMES) -> np.ndarray:
    """Each landmark's running median over `frames` frames (centred; the ends kept)."""
    half = frames // 2
    out = plane.copy()
    if len(plane) > 2 * half:
        stack = np.stack([plane[i:len(plane) - 2 * half + i] for i in range(frames)])
        out[half:len(plane) - half] = np.median(stack, axis=0)
    return out


def find_presses(times: np.ndarray, planes: dict[str, np.ndarray], levels: np.ndarray, key_midis: list[int],
                 keymap: KeyMap, weight: float = KEY_WEIGHT, threshold: float = PRESS_SCORE,
                 share: float = PRESS_SHARE) -> list[NoteEvent]:
    """Notes from a whole recording: per frame, each fingertip scores its rise plus the motion of the key
    under its pad; a key whose fingertip scores above `threshold`, at least `share` of that frame's best,
    was pressed where that is the key's best moment within PRESS_NMS frames. planes: per hand side,
    (frames, 21, 2) plane landmarks (NaN where unseen); levels: (frames, keys) band levels of `key_midis`
    (KeyBandLevels)."""
    n = len(times)
    column = {m: i for i, m in enumerate(key_midis)}
    keys_z = key_motion_z(levels) if levels.size else np.zeros((n, 0))
    # A key's motion around each frame (the press shows in the band a frame or two off the fingertip's rise).
    moved = np.zeros_like(keys_z)
    for i in range(n if keys_z.size else 0):
        moved[i] = keys_z[max(0, i - KEY_WINDOW):i + KEY_WINDOW + 1].max(axis=0)
    under = StrokeDetector(keymap)
    key_score: dict[int, np.ndarray] = {}
    for plane in planes.values():
        plane = median_filtered(plane)
        rise = np.maximum(finger_rise_z(plane), 0.0)
        for i in range(n):
            if np.isnan(plane[i, 0, 0]):
                continue
            for f in range(5):
                tip, joint = plane[i, TIPS[f]], plane[i, PADS[f]]
                midi = under.key_under(tip + PAD_SHARE * (joint - tip))
                if midi is None:
                    continue
                value = rise[i, f] + weight * (moved[i, column[midi]] if midi in column else 0.0)
                series = key_score.setdefault(midi, np.zeros(n))
                series[i] = max(series[i], value)
    if not key_score:
        return []
    frame_best = np.max(list(key_score.values()), axis=0)
    notes = []
    for midi, series in key_score.items():
        last = -1.0
        for i in np.flatnonzero(series >= threshold):
            lo, hi = max(0, i - PRESS_NMS), min(n, i + PRESS_NMS + 1)
            if series[i] < series[lo:hi].max():
                continue  # a stronger moment of this key close by: that one is the press
            if series[i] < share * frame_best[i]:
                continue  # another finger's stroke dominates this frame: this one moved with it
            if times[i] - last < REFRACTORY_S:
                continue
            last = times[i]
            notes.append(NoteEvent(midi, float(times[i]) + LEAD_S, None, 64, "vision", CONFIDENCE))
    return sorted(notes, key=lambda note: (note.onset, note.pitch))


class PressFinder:
    """Collects, frame by frame, the hands on the keyboard plane and the keys' band levels; `notes()`
    then finds the presses over the whole recording (find_presses: the clip's own statistics set each
    finger's and key's scale, so it decides at the end, as offline decoding does). With `surface`, the
    presses come from the keys' tops instead (notes/key_surface.py): a white key's stepping darker under a
    fingertip, a black key's neighbours' strips stepping brighter."""

    def __init__(self, keymap: KeyMap, cover: float = 0.0, surface: bool = False):
        from pianocam.notes.key_motion import KeyBandLevels
        from pianocam.notes.key_surface import KeySurfaceLevels

        self.keymap = keymap
        self._band = KeyBandLevels(keymap, cover)
        self._surface = KeySurfaceLevels(keymap) if surface else None
        self._times: list[float] = []
        self._levels: list[np.ndarray] = []
        self._tops: list[np.ndarray] = []
        self._hands: list[dict[str, np.ndarray]] = []

    def update(self, image: np.ndarray, hands: Hands, t: float, homography: np.ndarray | None = None) -> None:
        """One frame; `homography`: the camera's motion from the key map's frame to this one
        (calibration.motion.CameraMotion), where the camera moves: the keys are sampled where they now
        lie and the fingertips moved back into the key map's frame."""
        self._times.append(t)
        if homography is not None:
            hands = in_reference(hands, homography)
        if self._surface is not None:
            self._tops.append(self._surface.update(image, hands, homography))
        else:
            self._levels.append(self._band.update(image, hands, homography))
        self._hands.append({h.side: self.keymap.to_plane(h.landmarks[:, :2]) for h in hands.hands})

    def notes(self) -> list[NoteEvent]:
        if self._surface is not None:
            from pianocam.notes.key_surface import surface_presses

            tips = [np.vstack([p[TIPS] for p in frame.values()]) if frame else np.zeros((0, 2)) for frame in self._hands]
            samples = np.array(self._tops).reshape(len(self._times), -1)
            return [NoteEvent(midi, float(self._times[i]), None, 64, "vision", CONFIDENCE)
                    for midi, i in surface_presses(samples, self._surface, tips)]
        sides = sorted({side for frame in self._hands for side in frame})
        planes = {side: np.array([frame.get(side, np.full((21, 2), np.nan)) for frame in self._hands])
                  for side in sides}
        levels = np.array(self._levels) if self._levels else np.zeros((0, 0))
        return find_presses(np.array(self._times), planes, levels, self._band.midis, self.keymap)

"""Vision-only notes from the pressing finger's motion: a fingertip that curls down into a key.

Seen from above, a finger pressing a key bends at its joints and its tip's image slides towards
the player, by about 4-5 mm on the keyboard plane within two frames, while the other fingertips
stay put (measured on the real Ode to Joy close-up, whose key fronts are hidden under the hand so
no darkening can be seen; the rise comes ~2 frames, 65 ms, before the sound).
"""
from __future__ import annotations

import collections

import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_LENGTH, KeyMap, is_black, key_span
from pianocam.hands.tracker import FINGERTIPS, Hands
from pianocam.notes import NoteEvent

CONFIDENCE = 0.5
TIPS = list(FINGERTIPS.values())
KNUCKLES = [2, 5, 9, 13, 17]
PADS = [3, 7, 11, 15, 19]   # the joint behind each tip: the pad that meets the key lies between them
PAD_SHARE = 0.4             # of the way from the tip back to that joint
RISE_FRAMES = 2       # the rise is measured over this many frames
HOLD_FRAMES = 2       # and judged against the frames either side of it (the note is decided this late)
LEAD_S = 0.06         # the sound follows the rise by about this much
BLACK_FRONT_MM = 10.0  # a pad this close to a black key's front end plays the white key beside it
REFRACTORY_S = 0.2    # one finger strikes again no sooner (repeated notes here: 0.3 s apart)


class StrokeDetector:
    """Per hand, each fingertip's distance from its knuckle along the keys (plane mm). A finger whose
    distance jumps by `rise` mm within two frames, `margin` mm beyond the hand's other fingers, more
    than any jump of that hand in the frames around it, and stays there (the key is held), struck the
    key under its pad. Decided HOLD_FRAMES after the jump."""

    def __init__(self, keymap: KeyMap, rise: float = 3.0, margin: float = 1.5):
        self.keymap = keymap
        self.rise = rise
        self.margin = margin
        self._history: dict[str, collections.deque] = {}
        self._last: dict[tuple[str, int], float] = {}

    def update(self, hands: Hands, t: float) -> list[NoteEvent]:
        notes = []
        for hand in hands.hands:
            plane = self.keymap.to_plane(hand.landmarks[:, :2])
            history = self._history.setdefault(hand.side, collections.deque(maxlen=RISE_FRAMES + 2 * HOLD_FRAMES + 1))
            if history and t - history[-1][0] > 1.5 / 30:
                history.clear()  # the hand was lost in between: no motion to judge across the gap
            history.append((t, plane[TIPS, 1] - plane[KNUCKLES, 1], plane))
            note = self._judge(hand.side, list(history))
            if note is not None:
                notes.append(note)
        return notes

    def _judge(self, side: str, history: list) -> NoteEvent | None:
        if len(history) < RISE_FRAMES + 2 * HOLD_FRAMES + 1:
            return None
        reach = np.array([r for _, r, _ in history])                  # (frames, 5)
        rises = reach[RISE_FRAMES:] - reach[:-RISE_FRAMES]              # rise ending at each later frame
        k = HOLD_FRAMES                                                 # the frame judged, mid-window
        rise = rises[k]
        finger = int(np.argmax(rise))
        if rise[finger] < self.rise or rise[finger] - max(np.delete(rise, finger).max(), 0.0) < self.margin:
            return None
        if rise[finger] < rises.max():
            return None  # a bigger jump of this hand just before or after: that one is the stroke
        judged = k + RISE_FRAMES
        if reach[-1, finger] - reach[judged - RISE_FRAMES, finger] < 0.6 * rise[finger]:
            return None  # it went straight back: a flick, not a key held down
        t, _, plane = history[judged]
        if t - self._last.get((side, finger), -1.0) < REFRACTORY_S:
            return None
        tip, joint = plane[TIPS[finger]], plane[PADS[finger]]
        midi = self.key_under(tip + PAD_SHARE * (joint - tip))
        if midi is None:
            return None
        self._last[(side, finger)] = t
        return NoteEvent(midi, t + LEAD_S, None, 64, "vision", CONFIDENCE)

    def key_under(self, point: np.ndarray) -> int | None:
        """The mapped key a fingertip (plane mm) is on: a black key where it reaches between the black keys."""
        x, y = point
        if not -20 <= y <= WHITE_KEY_LENGTH + 20:
            return None
        candidates = [m for m in self.keymap.midis if key_span(m)[0] <= x < key_span(m)[1]]
        if not candidates:
            return None
        # Only a pad well between the black keys is on one: at their front ends fingers play the white keys.
        black = [m for m in candidates if is_black(m) and key_span(m)[0] + 2 <= x < key_span(m)[1] - 2]
        return black[0] if black and y < self.keymap.black_key_length - BLACK_FRONT_MM else \
            next((m for m in candidates if not is_black(m)), candidates[0])


# Strokes and key motion together (PressFinder), set on the rendered benchmark scenes and the real
# Ode to Joy close-up (benchmarks/fingering_real.py; the partial-keyboard clip is held out).
MEDIAN_FRAMES = 3      # a single-frame tracker jump (the close-up has four, all fingers 15 mm at once) is no stroke
REST_FRAMES = 30       # a key's resting level: the median of its last second
KEY_WINDOW = 2         # frames either side of a fingertip's rise in which its key's band may move
KEY_WEIGHT = 1.0       # a key-band z-score counts this much beside the fingertip's rise z-score
PRESS_SCORE = 5.0      # rise z + weight x key z above this is a press
PRESS_NMS = 5          # frames: one press per key within this many frames either side (its best frame)


def robust_z(values: np.ndarray, axis: int = 0) -> np.ndarray:
    """Values over their own median absolute deviation (x 1.4826, a standard deviation for normal noise)."""
    centre = np.nanmedian(values, axis=axis, keepdims=True)
    spread = np.nanmedian(np.abs(values - centre), axis=axis, keepdims=True) * 1.4826
    return values / np.maximum(spread, 1e-6)


def key_motion_z(levels: np.ndarray, lag: int = RISE_FRAMES, rest_frames: int = REST_FRAMES) -> np.ndarray:
    """(frames, keys) z-score of each key's band level changing over `lag` frames, counted only where the
    change takes the key away from its resting level (a press; the release coming back is no new note)."""
    change = np.full_like(levels, np.nan)
    change[lag:] = levels[lag:] - levels[:-lag]
    rest = np.array([np.median(levels[max(0, i - rest_frames):i + 1], axis=0) for i in range(len(levels))])
    before = np.vstack([levels[:lag], levels[:-lag]]) if len(levels) > lag else levels
    away = np.abs(levels - rest) > np.abs(before - rest)
    return np.nan_to_num(np.abs(robust_z(change))) * away


def finger_rise_z(plane: np.ndarray, lag: int = RISE_FRAMES) -> np.ndarray:
    """(frames, 5) z-score of each fingertip's rise along the keys relative to its knuckle over `lag`
    frames, in units of that finger's own spread over the clip (a thumb moves less than a middle finger).
    plane: (frames, 21, 2) landmarks on the keyboard plane, NaN where the hand was not seen."""
    reach = plane[:, TIPS, 1] - plane[:, KNUCKLES, 1]
    rise = np.full_like(reach, np.nan)
    rise[lag:] = reach[lag:] - reach[:-lag]
    return np.nan_to_num(robust_z(rise))


def median_filtered(plane: np.ndarray, frames: int = MEDIAN_FRAMES) -> np.ndarray:
    """Each landmark's running median over `frames` frames (centred; the ends kept)."""
    half = frames // 2
    out = plane.copy()
    if len(plane) > 2 * half:
        stack = np.stack([plane[i:len(plane) - 2 * half + i] for i in range(frames)])
        out[half:len(plane) - half] = np.median(stack, axis=0)
    return out


def find_presses(times: np.ndarray, planes: dict[str, np.ndarray], levels: np.ndarray, key_midis: list[int],
                 keymap: KeyMap, weight: float = KEY_WEIGHT, threshold: float = PRESS_SCORE) -> list[NoteEvent]:
    """Notes from a whole recording: per frame, each fingertip scores its rise plus the motion of the key
    under its pad; the best fingertip of a frame above `threshold` pressed that key, kept only where it is
    the key's best moment within PRESS_NMS frames. planes: per hand side, (frames, 21, 2) plane landmarks
    (NaN where unseen); levels: (frames, keys) band levels of `key_midis` (KeyBandLevels)."""
    n = len(times)
    column = {m: i for i, m in enumerate(key_midis)}
    keys_z = key_motion_z(levels) if levels.size else np.zeros((n, 0))
    under = StrokeDetector(keymap)
    scores, keys = [], []
    for plane in planes.values():
        plane = median_filtered(plane)
        rise = np.maximum(finger_rise_z(plane), 0.0)
        key = np.full((n, 5), -1)
        score = np.zeros((n, 5))
        for i in range(n):
            if np.isnan(plane[i, 0, 0]):
                continue
            for f in range(5):
                tip, joint = plane[i, TIPS[f]], plane[i, PADS[f]]
                midi = under.key_under(tip + PAD_SHARE * (joint - tip))
                if midi is None:
                    continue
                key[i, f] = midi
                moved = keys_z[max(0, i - KEY_WINDOW):i + KEY_WINDOW + 1, column[midi]].max() if midi in column else 0.0
                score[i, f] = rise[i, f] + weight * moved
        scores.append(score)
        keys.append(key)
    if not scores:
        return []
    score, key = np.hstack(scores), np.hstack(keys)
    notes, last = [], {}
    for i in range(n):
        best = int(np.argmax(score[i]))
        midi = int(key[i, best])
        if score[i, best] < threshold or midi < 0:
            continue
        lo, hi = max(0, i - PRESS_NMS), min(n, i + PRESS_NMS + 1)
        if score[i, best] < score[lo:hi][key[lo:hi] == midi].max():
            continue  # a stronger moment of this key close by: that one is the press
        if times[i] - last.get(midi, -1.0) < REFRACTORY_S:
            continue
        last[midi] = times[i]
        notes.append(NoteEvent(midi, float(times[i]) + LEAD_S, None, 64, "vision", CONFIDENCE))
    return notes


class PressFinder:
    """Collects, frame by frame, the hands on the keyboard plane and the keys' band levels; `notes()`
    then finds the presses over the whole recording (find_presses: the clip's own statistics set each
    finger's and key's scale, so it decides at the end, as offline decoding does)."""

    def __init__(self, keymap: KeyMap):
        from pianocam.notes.key_motion import KeyBandLevels

        self.keymap = keymap
        self._band = KeyBandLevels(keymap)
        self._times: list[float] = []
        self._levels: list[np.ndarray] = []
        self._hands: list[dict[str, np.ndarray]] = []

    def update(self, image: np.ndarray, hands: Hands, t: float) -> None:
        self._times.append(t)
        self._levels.append(self._band.update(image))
        self._hands.append({h.side: self.keymap.to_plane(h.landmarks[:, :2]) for h in hands.hands})

    def notes(self) -> list[NoteEvent]:
        sides = sorted({side for frame in self._hands for side in frame})
        planes = {side: np.array([frame.get(side, np.full((21, 2), np.nan)) for frame in self._hands])
                  for side in sides}
        levels = np.array(self._levels) if self._levels else np.zeros((0, 0))
        return find_presses(np.array(self._times), planes, levels, self._band.midis, self.keymap)


def merge_notes(first: list[NoteEvent], second: list[NoteEvent], tolerance: float = 0.1) -> list[NoteEvent]:
    """Both detectors' notes, a note of `second` dropped where `first` has the same key this close in time."""
    kept = [n for n in second if not any(m.pitch == n.pitch and abs(m.onset - n.onset) <= tolerance for m in first)]
    return sorted(first + kept, key=lambda n: (n.onset, n.pitch))

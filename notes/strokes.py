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


def merge_notes(first: list[NoteEvent], second: list[NoteEvent], tolerance: float = 0.1) -> list[NoteEvent]:
    """Both detectors' notes, a note of `second` dropped where `first` has the same key this close in time."""
    kept = [n for n in second if not any(m.pitch == n.pitch and abs(m.onset - n.onset) <= tolerance for m in first)]
    return sorted(first + kept, key=lambda n: (n.onset, n.pitch))

"""Piano keyboard geometry in the keyboard plane (millimetres), with real proportions."""
from __future__ import annotations

from dataclasses import dataclass

# One geometry for the renderer and the unit (calibration/keymap.py), so rendered truth and key maps agree.
from pianocam.calibration.keymap import BLACK_KEY_LENGTH as BLACK_LENGTH
from pianocam.calibration.keymap import BLACK_KEY_WIDTH as BLACK_WIDTH
from pianocam.calibration.keymap import OCTAVE_WIDTH, STANDARD_LOWEST, is_black, note_name
from pianocam.calibration.keymap import WHITE_KEY_LENGTH as WHITE_LENGTH
from pianocam.calibration.keymap import WHITE_KEY_WIDTH as WHITE_WIDTH

# Where a fingertip lands, measured from the back edge (the fallboard) towards the
# player: white keys are struck on the wide front part, black keys near their front.
WHITE_PRESS_DEPTH = 122.0
BLACK_PRESS_DEPTH = 68.0

LOWEST_MIDI = STANDARD_LOWEST

_WHITE_STEP = (0, None, 1, None, 2, 3, None, 4, None, 5, None, 6)


@dataclass(frozen=True)
class Key:
    """One key: x spans along the keyboard, y from the back edge towards the player."""

    midi: int
    black: bool
    x0: float
    x1: float
    length: float

    @property
    def name(self) -> str:
        return note_name(self.midi)

    @property
    def corners(self) -> list[tuple[float, float]]:
        """Back-left, back-right, front-right, front-left."""
        return [(self.x0, 0.0), (self.x1, 0.0), (self.x1, self.length), (self.x0, self.length)]

    @property
    def press_point(self) -> tuple[float, float]:
        depth = BLACK_PRESS_DEPTH if self.black else WHITE_PRESS_DEPTH
        return (0.5 * (self.x0 + self.x1), depth)


def white_index(midi: int) -> int:
    """White keys counted from C-1; a black key gets the index of the white key below it."""
    pc = midi % 12
    step = _WHITE_STEP[pc] if not is_black(midi) else _WHITE_STEP[pc - 1]
    return (midi // 12) * 7 + step


def absolute_x0(midi: int) -> float:
    """Left edge of a key measured from C-1.

    Black keys use the equal-back-width layout of real actions: at the back, the twelve
    keys of an octave share its width equally (164.5 / 12 = 13.7 mm, the black-key
    width), which yields the familiar groups of two and three.
    """
    if is_black(midi):
        return (midi // 12) * OCTAVE_WIDTH + (midi % 12) * (OCTAVE_WIDTH / 12)
    return white_index(midi) * WHITE_WIDTH


def keyboard_keys(count: int) -> list[Key]:
    """All keys of a `count`-key keyboard, x measured from its leftmost edge."""
    if count not in LOWEST_MIDI:
        raise ValueError(f"keys must be one of {sorted(LOWEST_MIDI)}, not {count}")
    low = LOWEST_MIDI[count]
    origin = absolute_x0(low)
    keys = []
    for midi in range(low, low + count):
        black = is_black(midi)
        x0 = absolute_x0(midi) - origin
        width = BLACK_WIDTH if black else WHITE_WIDTH
        keys.append(Key(midi, black, x0, x0 + width, BLACK_LENGTH if black else WHITE_LENGTH))
    return keys


def keyboard_width(count: int) -> float:
    keys = keyboard_keys(count)
    return max(k.x1 for k in keys)

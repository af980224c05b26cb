"""Give the keys found their MIDI numbers: from the keyboard's ends, the user's hints, or not at all."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from pianocam.calibration.errors import NumberingUnknown
from pianocam.calibration.keymap import STANDARD_LOWEST, note_name

logger = logging.getLogger(__name__)

# Pitch classes a keyboard's lowest / highest key has on common instruments
# (A0-C8, E1-G7, C2-C7, C2-C6, F-F and C-C minis); any other end is a hand or shadow.
LOWEST_PCS = {0: "C", 4: "E", 5: "F", 9: "A"}
HIGHEST_PCS = {0: "C", 4: "E", 5: "F", 7: "G"}
# The lowest key a left end implies when nothing else is known: the common keyboards.
LOWEST_BY_PC = {9: (21, "88-key"), 4: (28, "76-key"), 0: (36, "61- or 49-key")}


@dataclass(frozen=True)
class Ends:
    """Relative MIDI of the lowest / highest key when that end of the keyboard is in view."""

    left: int | None
    right: int | None
    left_limit: int | None = None    # keys stop here (a dark slot beyond) even if no end is confirmed
    right_limit: int | None = None
    left_beyond: str = "unclear"     # what lies past the last key: "body", "border" or "unclear"
    right_beyond: str = "unclear"
    left_reach: int | None = None    # outermost key with any part in the frame
    right_reach: int | None = None
    left_last: int | None = None     # outermost slot that surely looked like a white key
    right_last: int | None = None


@dataclass
class Numbering:
    shift: int                       # add to relative MIDI numbers
    lowest_in_map: int
    highest_in_map: int
    partial: bool
    keyboard_keys: int | None = None
    lowest: int | None = None
    notes: list[str] = field(default_factory=list)
    how: str = "ends"                # what settled the octave: "ends", "keyboard size" or "hint"


def _pc(midi: int) -> str:
    return note_name(midi)[:-1]


def _check_pc(absolute: int, relative: int, what: str) -> int:
    if (absolute - relative) % 12:
        raise NumberingUnknown(f"{what} is {note_name(absolute)}, but the key there is a {_pc(relative)}")
    return absolute - relative


def number_keys(ends: Ends, in_view: list[int], keys: int | None = None, lowest: int | None = None,
                first_c: int | None = None) -> Numbering:
    """The octave shift from relative to absolute MIDI numbers, and what the map covers."""
    if keys is not None and lowest is None:
        lowest = STANDARD_LOWEST.get(keys)
    notes = []
    left = ends.left if ends.left is not None and ends.left % 12 in LOWEST_PCS else None
    right = ends.right if ends.right is not None and ends.right % 12 in HIGHEST_PCS else None
    for end, kept, what in ((ends.left, left, "left"), (ends.right, right, "right")):
        if end is not None and kept is None:
            notes.append(f"the {what} end looks like a {_pc(end)}, which no common keyboard ends on: "
                         "taken as covered, not as the end")
    shift = None
    count = None
    if left is not None and right is not None:
        count = right - left + 1
        if keys is not None and keys != count:
            raise NumberingUnknown(f"the keyboard in view has {count} keys ({_pc(left)} to {_pc(right)}), "
                                   f"but --keys says {keys}")
        if lowest is None:
            lowest = STANDARD_LOWEST.get(count)
        if lowest is None and first_c is None:
            raise NumberingUnknown(f"a {count}-key keyboard ({_pc(left)} to {_pc(right)}) is not a standard "
                                   "size: give --lowest to name its lowest key")
        if lowest is not None:
            shift = _check_pc(lowest, left, "--lowest" if keys is None else "the lowest key")
            how = "ends"
    elif left is not None:
        if lowest is None and left % 12 in LOWEST_BY_PC:
            lowest, kind = LOWEST_BY_PC[left % 12]
            notes.append(f"only the left end is in view: its {_pc(left)} taken as {note_name(lowest)}, "
                         f"the lowest key of a {kind} keyboard")
        if lowest is not None:
            shift = _check_pc(lowest, left, "--lowest")
    elif right is not None and keys is not None and lowest is not None:
        shift = _check_pc(lowest + keys - 1, right, "the highest key (from --keys and --lowest)")
    if shift is None and keys is not None and lowest is not None and in_view:
        # Edge to edge: exactly --keys keys in view, the outer ones of the right kind.
        lo_v, hi_v = min(in_view), max(in_view)
        if hi_v - lo_v + 1 == keys and (lowest - lo_v) % 12 == 0:
            shift = lowest - lo_v
            left, right = lo_v, hi_v
            notes.append(f"exactly {keys} keys fill the frame: its edges taken as the keyboard's ends")
            how = "hint"
    how = "ends" if shift is not None else None
    if shift is None and first_c is None and keys in (None, 88) and lowest in (None, 21):
        whole = edge_to_edge_88(ends)
        if whole is not None:
            left, right = whole, whole + 87
            shift = 21 - whole
            keys, lowest, how = 88, 21, "keyboard size"
            notes.append("88 keys from A to C lie in the frame, the outer ones at its edges: A0..C8")
    elif shift is not None and keys is not None:
        how = "keyboard size"
    if first_c is not None:
        if first_c % 12:
            raise NumberingUnknown(f"--first-c must name a C, not {note_name(first_c)}")
        rel_c = min(m for m in in_view if m % 12 == 0) if any(m % 12 == 0 for m in in_view) else None
        if rel_c is None:
            raise NumberingUnknown("--first-c given, but no C is in view")
        from_hint = first_c - rel_c
        if shift is not None and shift != from_hint:
            raise NumberingUnknown(f"--first-c {note_name(first_c)} contradicts the keyboard's ends, which make "
                                   f"the first C in view {note_name(rel_c + shift)}")
        shift = from_hint
        how = "hint"
    if shift is None:
        seen = ("only the right end of the keyboard is in view" if right is not None
                else "neither end of the keyboard is in view")
        raise NumberingUnknown(f"{seen}, so which octave is which cannot be told: give --first-c (the name "
                               "of the leftmost C in view, e.g. C2), or --keys and --lowest with an end in view")
    if keys is None and count is not None and count in STANDARD_LOWEST:
        keys = count
    lo = left if left is not None else max(min(in_view), ends.left_limit if ends.left_limit is not None else -999)
    hi = right if right is not None else min(max(in_view), ends.right_limit if ends.right_limit is not None else 999)
    if keys is not None and lowest is not None:
        lo = max(lo, lowest - shift)
        hi = min(hi, lowest + keys - 1 - shift)
    partial = left is None or right is None
    if left is None:
        notes.append("the left end of the keyboard is not in view")
    if right is None:
        notes.append("the right end of the keyboard is not in view")
    return Numbering(shift=shift, lowest_in_map=lo + shift, highest_in_map=hi + shift, partial=partial,
                     keyboard_keys=keys, lowest=lowest, notes=notes, how=how or "hint")


def edge_to_edge_88(ends: Ends) -> int | None:
    """Relative MIDI of A0 when exactly an 88-key keyboard spans the frame, else None.

    88 keys is the largest common keyboard, so 88 keys from an A to a C in view, the
    outermost ones at the frame's edge (or at a body), can only be A0..C8.
    """
    if ends.left_limit is None or ends.right_limit is None:
        return None
    def span(end, limit, beyond, reach, step):
        if end is not None:
            return end, end
        if beyond == "body" or reach is None:
            return None
        # The outermost key may lie just past the frame's edge: one white key's slack.
        return limit, reach + 2 * step
    lo = span(ends.left, ends.left_last if ends.left_last is not None else ends.left_limit, ends.left_beyond,
              ends.left_reach, -1)
    hi = span(ends.right, ends.right_last if ends.right_last is not None else ends.right_limit, ends.right_beyond,
              ends.right_reach, 1)
    if lo is None or hi is None:
        return None
    found = [a for a in range(min(lo), max(lo) + 1) if a % 12 == 9 and min(hi) <= a + 87 <= max(hi)]
    return found[0] if len(found) == 1 else None

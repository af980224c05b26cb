"""Pieces with known fingering (scales, arpeggios, chords, thumb crossings), from a seed."""
from __future__ import annotations

import numpy as np

PIECES = ("scales", "arpeggios", "chords", "crossings", "mixed")
HANDS = ("both", "left", "right")

# Every piece stays within C2..C6, the range common to all keyboard sizes and inside
# the camera's framing, so every played key is on screen.
LOWEST_PLAYED = 36
HIGHEST_PLAYED = 84
# The hands play two octaves apart in parallel motion: they never overlap, which a
# real tracker also needs to see two separate hands.
HAND_GAP = 24
LEAD_IN = 0.4
# Notes sound for this share of their slot, so a finger lifts before the next note.
ARTICULATION = 0.85

MAJOR = (0, 2, 4, 5, 7, 9, 11)
HARMONIC_MINOR = (0, 2, 3, 5, 7, 8, 11)

# Standard fingerings (as in Beringer & Dunhill) for one and two octaves ascending;
# descending reverses them. C, G, D, A, E major and A, E, D minor share the first.
SCALE_FINGERS = {
    "common": {"right": ("12312345", "123123412312345"), "left": ("54321321", "543213214321321")},
    "f_major": {"right": ("12341234", "123412312341234"), "left": ("54321321", "543213214321321")},
}
SCALES = (  # (name, tonic pitch class, mode, fingering family)
    ("C major", 0, MAJOR, "common"), ("G major", 7, MAJOR, "common"),
    ("D major", 2, MAJOR, "common"), ("A major", 9, MAJOR, "common"),
    ("E major", 4, MAJOR, "common"), ("F major", 5, MAJOR, "f_major"),
    ("A minor", 9, HARMONIC_MINOR, "common"), ("E minor", 4, HARMONIC_MINOR, "common"),
    ("D minor", 2, HARMONIC_MINOR, "common"),
)
ARPEGGIO_FINGERS = {"right": ("1235", "1231235"), "left": ("5421", "5421421")}
TRIADS = (("C major", 0, (0, 4, 7)), ("G major", 7, (0, 4, 7)), ("F major", 5, (0, 4, 7)),
          ("D major", 2, (0, 4, 7)), ("A minor", 9, (0, 3, 7)), ("D minor", 2, (0, 3, 7)),
          ("E minor", 4, (0, 3, 7)))
CHORD_FINGERS = {"right": (1, 3, 5), "left": (5, 3, 1)}
# Short groups force a thumb crossing every few notes: thumb under going out, a long
# finger over the thumb coming back.
CROSSING_GROUPS = ((1, 2, 3), (1, 2, 3, 4))


def _tonics(pitch_class: int, span: int) -> dict[str, int]:
    right = 60 + pitch_class % 12
    return {"right": right, "left": right - HAND_GAP}


def _octaves_that_fit(pitch_class: int, octaves: int) -> int:
    """Two octaves two octaves apart fit in C2..C6 only from C; others run one octave."""
    return octaves if 60 + pitch_class % 12 + 12 * octaves <= HIGHEST_PLAYED else 1


def _scale_pitches(tonic: int, mode, octaves: int) -> list[int]:
    return [tonic + 12 * (i // 7) + mode[i % 7] for i in range(7 * octaves + 1)]


def _there_and_back(pitches, fingers):
    return list(pitches) + list(pitches)[-2::-1], list(fingers) + list(fingers)[-2::-1]


def scale_segment(rng, octaves: int):
    """One scale up and down; returns per hand a list of chords [(pitch, finger)]."""
    name, pc, mode, family = SCALES[rng.integers(len(SCALES))]
    octaves = _octaves_that_fit(pc, octaves)
    tonics = _tonics(pc, 12 * octaves)
    out = {}
    for hand, tonic in tonics.items():
        pitches, fingers = _there_and_back(_scale_pitches(tonic, mode, octaves),
                                           map(int, SCALE_FINGERS[family][hand][octaves - 1]))
        out[hand] = [[(p, f)] for p, f in zip(pitches, fingers)]
    return out, 0.5


def arpeggio_segment(rng, octaves: int):
    name, pc, triad = TRIADS[rng.integers(len(TRIADS))]
    octaves = _octaves_that_fit(pc, octaves)
    tonics = _tonics(pc, 12 * octaves)
    out = {}
    for hand, tonic in tonics.items():
        pitches = [tonic + 12 * (i // 3) + triad[i % 3] for i in range(3 * octaves + 1)]
        pitches, fingers = _there_and_back(pitches, map(int, ARPEGGIO_FINGERS[hand][octaves - 1]))
        out[hand] = [[(p, f)] for p, f in zip(pitches, fingers)]
    return out, 0.5


def chord_segment(rng, octaves: int):
    """Block root-position triads through I-IV-V-I (or I-vi-IV-V), each held a beat."""
    name, pc, triad = TRIADS[rng.integers(len(TRIADS))]
    tonics = _tonics(pc, 9)
    degrees = (0, 5, 7, 0) if rng.random() < 0.5 else (0, 9, 5, 7)
    # A chord that would climb past C6 drops an octave in both hands, keeping the gap.
    drops = [12 if tonics["right"] + d + 7 > HIGHEST_PLAYED else 0 for d in degrees]
    out = {}
    for hand, tonic in tonics.items():
        chords = []
        for degree, drop in zip(degrees, drops):
            root = tonic + degree - drop
            # Minor on vi, major on IV/V keeps the progression diatonic in major keys.
            shape = (0, 3, 7) if degree == 9 else triad if degree == 0 else (0, 4, 7)
            chords.append([(root + s, f) for s, f in zip(shape, CHORD_FINGERS[hand])])
        out[hand] = chords
    return out, 1.0


def crossing_segment(rng, octaves: int):
    """A C-major run fingered in short groups so that the thumb crosses constantly."""
    group = CROSSING_GROUPS[rng.integers(len(CROSSING_GROUPS))]
    tonics = _tonics(0, 12 * octaves)
    out = {}
    for hand, tonic in tonics.items():
        pitches = _scale_pitches(tonic, MAJOR, octaves)
        fingers = [group[i % len(group)] for i in range(len(pitches))]
        if hand == "left":
            # The left hand runs the mirror image: a long finger crosses over going up.
            fingers = [group[::-1][i % len(group)] for i in range(len(pitches))]
        pitches, fingers = _there_and_back(pitches, fingers)
        out[hand] = [[(p, f)] for p, f in zip(pitches, fingers)]
    return out, 0.5


SEGMENTS = {"scales": scale_segment, "arpeggios": arpeggio_segment,
            "chords": chord_segment, "crossings": crossing_segment}


def compose(piece: str, seed: int, seconds: float, tempo: float, hands: str = "both") -> list[dict]:
    """Notes sorted by onset: pitch, onset, offset (s), hand, finger 1-5, velocity."""
    if piece not in PIECES:
        raise ValueError(f"piece must be one of {PIECES}, not {piece!r}")
    if hands not in HANDS:
        raise ValueError(f"hands must be one of {HANDS}, not {hands!r}")
    rng = np.random.default_rng([seed, 1])
    beat = 60.0 / tempo
    notes: list[dict] = []
    t = LEAD_IN
    while t < seconds:
        kind = piece if piece != "mixed" else ("scales", "arpeggios", "chords", "crossings")[rng.integers(4)]
        octaves = 1 if piece == "mixed" else int(rng.integers(1, 3))
        parts, slot_beats = SEGMENTS[kind](rng, octaves)
        slot = slot_beats * beat
        for hand, chords in parts.items():
            if hands not in ("both", hand):
                continue
            for i, chord in enumerate(chords):
                onset = t + i * slot
                for pitch, finger in chord:
                    notes.append({"pitch": int(pitch), "onset": onset,
                                  "offset": onset + ARTICULATION * slot, "hand": hand,
                                  "finger": int(finger), "velocity": int(rng.integers(55, 100))})
        t += (len(next(iter(parts.values()))) + 1) * slot + beat
    notes = [n for n in notes if n["onset"] < seconds - 0.05]
    for n in notes:
        n["onset"] = round(n["onset"], 6)
        n["offset"] = round(min(n["offset"], seconds), 6)
    notes.sort(key=lambda n: (n["onset"], n["hand"], n["pitch"]))
    return notes

"""Reader for abcD (abc notation with the Didactyl fingering header) into a Score.

abcD files carry the music as abc and, in `% abcD fingering N:` comment lines, one finger digit
(or x for unknown) per note of the upper staff, then `@`, then the lower staff, `&` between
lines. The reader covers the abc the Beringer & Dunhill corpus uses: notes with accidentals
(bar-scoped, over the key signature), octave marks, lengths, rests, chords, bar lines and
repeat signs (a repeat is played once), inline key/octave fields and quoted annotations.
"""
from __future__ import annotations

import re
from pathlib import Path

from pianocam.practice.score import ExpectedNote, Score

STEPS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
SHARP_ORDER = "FCGDAEB"
# Key signature sizes in fifths (sharps positive, flats negative).
MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F#": 6, "C#": 7, "F": -1, "Bb": -2,
                "Eb": -3, "Ab": -4, "Db": -5, "Gb": -6, "Cb": -7}
MINOR_FIFTHS = {"A": 0, "E": 1, "B": 2, "F#": 3, "C#": 4, "G#": 5, "D#": 6, "A#": 7, "D": -1, "G": -2,
                "C": -3, "F": -4, "Bb": -5, "Eb": -6, "Ab": -7}
VOICE_HANDS = {"1": "right", "2": "left"}

_TOKEN = re.compile(r"""
    (?P<text>"[^"]*")
  | (?P<field>\[[A-Za-z]:[^\]]*\])
  | (?P<bar>:*\|+\]?:*|:{2,}|\[\|)
  | (?P<chord_open>\[)
  | (?P<chord_close>\](?P<chord_len>\d*/*\d*))
  | (?P<note>(?P<acc>\^{1,2}|_{1,2}|=)?(?P<letter>[A-Ga-g])(?P<octave>[',]*)(?P<len>\d*/*\d*))
  | (?P<rest>[zx](?P<rest_len>\d*/*\d*))
  | (?P<space>\s+)
  | (?P<other>.)
""", re.VERBOSE)


class AbcdError(ValueError):
    """An abcD file this reader cannot read, with what and where."""


def _key_accidentals(key: str) -> dict[str, int]:
    """Per letter, the semitone shift the key signature gives it."""
    m = re.match(r"\s*([A-G])([#b]?)\s*(maj|major|min|minor|m)?\b", key)
    if not m:
        return {}
    tonic = m.group(1) + m.group(2)
    minor = (m.group(3) or "").startswith("m") and m.group(3) not in ("maj", "major")
    fifths = (MINOR_FIFTHS if minor else MAJOR_FIFTHS).get(tonic)
    if fifths is None:
        raise AbcdError(f"key {key!r}: not a key signature this reader knows")
    letters = SHARP_ORDER[:fifths] if fifths > 0 else SHARP_ORDER[::-1][:-fifths]
    return {letter: 1 if fifths > 0 else -1 for letter in letters}


def _octave_param(text: str) -> int | None:
    m = re.search(r"octave\s*=\s*(-?\d+)", text)
    return int(m.group(1)) if m else None


def _key_name(text: str) -> str | None:
    """The key in a K: field, or None when it sets only clef/octave."""
    words = [w for w in text.split() if "=" not in w and w not in ("treble", "bass", "alto", "tenor")]
    return " ".join(words) if words and re.match(r"[A-G]", words[0]) else None


def _length(text: str) -> float:
    """abc length suffix as a multiple of the unit note length: '', '2', '/', '3/2', '//'."""
    if not text:
        return 1.0
    if "/" not in text:
        return float(text)
    num, _, rest = text.partition("/")
    slashes = 1 + rest.count("/")
    den = rest.replace("/", "")
    numerator = float(num) if num else 1.0
    return numerator / (float(den) if den else 2.0 ** slashes)


def parse_fingerings(text: str) -> list[dict[str, list[int | None]]]:
    """Every `% abcD fingering N:` line: per hand, a finger or None per note, in staff order."""
    out = []
    for m in re.finditer(r"^%\s*abcD fingering \d+:\s*(\S*)", text, re.MULTILINE):
        upper, _, lower = m.group(1).partition("@")
        hands = {}
        for hand, digits in (("right", upper), ("left", lower)):
            digits = digits.replace("&", "")
            bad = set(digits) - set("12345x")
            if bad:
                raise AbcdError(f"fingering line {m.group(0)[:40]!r}: unexpected {''.join(sorted(bad))!r}")
            hands[hand] = [None if c == "x" else int(c) for c in digits]
        out.append(hands)
    return out


class _Voice:
    def __init__(self, hand: str, octave: int, key: dict[str, int]):
        self.hand = hand
        self.octave = octave
        self.key = key
        self.unit = 1 / 8
        self.beat = 0.0
        self.bar = 1
        self.passage = 1
        self.passage_open = False  # a note has been played in the current passage
        self.bar_accidentals: dict[tuple[str, int], int] = {}
        self.notes: list[tuple[int, float, float, int, int]] = []  # pitch, beat, duration, bar, passage
        self.passage_names: dict[int, str] = {}

    def new_passage(self) -> None:
        if self.passage_open:
            self.passage += 1
            self.passage_open = False


def _read_body(voice: _Voice, lines: list[tuple[int, str]], where: str) -> None:
    for lineno, line in lines:
        if re.match(r"^[A-Za-z]:", line):
            field, value = line[0], line[2:].strip()
            if field == "L":
                num, _, den = value.partition("/")
                voice.unit = float(num) / float(den)
            elif field == "K":
                key = _key_name(value)
                if key:
                    voice.key = _key_accidentals(key)
                if (o := _octave_param(value)) is not None:
                    voice.octave = o
            continue
        voice.new_passage()  # each line of music is a passage, as is each repeated section
        chord: list | None = None
        for m in _TOKEN.finditer(line):
            if m.group("text") is not None:
                label = m.group("text").strip('"').lstrip("^_<>@")
                if label and not label.startswith("$") and not label[0].isdigit():
                    voice.passage_names.setdefault(voice.passage, label)
            elif m.group("field") is not None:
                inner = m.group("field")[1:-1]
                if inner[0] == "K":
                    key = _key_name(inner[2:])
                    if key:
                        voice.key = _key_accidentals(key)
                    if (o := _octave_param(inner)) is not None:
                        voice.octave = o
                elif inner[0] == "L":
                    num, _, den = inner[2:].strip().partition("/")
                    voice.unit = float(num) / float(den)
            elif m.group("bar") is not None:
                voice.bar_accidentals.clear()
                if chord is not None:
                    raise AbcdError(f"{where} line {lineno}: a bar line inside a chord")
                voice.bar += 1
                if m.group("bar").endswith(":"):  # start of a repeated section: a new passage
                    voice.new_passage()
            elif m.group("chord_open") is not None:
                chord = []
            elif m.group("chord_close") is not None:
                if chord is None:  # a stray end of a thick bar line (the corpus has ':|b4|:]')
                    continue
                if chord:
                    scale = _length(m.group("chord_len"))
                    length = max(d for _, d in chord) * scale
                    for pitch, d in chord:
                        voice.notes.append((pitch, voice.beat, d * scale, voice.bar, voice.passage))
                    voice.beat += length
                chord = None
            elif m.group("note") is not None:
                letter = m.group("letter")
                octave = 4 + (letter.islower()) + m.group("octave").count("'") - m.group("octave").count(",")
                octave += voice.octave
                base = letter.upper()
                acc = m.group("acc")
                if acc:
                    shift = {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}[acc]
                    voice.bar_accidentals[(base, octave)] = shift
                else:
                    shift = voice.bar_accidentals.get((base, octave), voice.key.get(base, 0))
                pitch = 12 * (octave + 1) + STEPS[base] + shift
                duration = _length(m.group("len")) * voice.unit * 4
                voice.passage_open = True
                if chord is not None:
                    chord.append((pitch, duration))
                else:
                    voice.notes.append((pitch, voice.beat, duration, voice.bar, voice.passage))
                    voice.beat += duration
            elif m.group("rest") is not None:
                voice.beat += _length(m.group("rest_len")) * voice.unit * 4
            elif m.group("other") is not None:
                ch = m.group("other")
                if ch not in "-()~.>< \t":
                    raise AbcdError(f"{where} line {lineno}: cannot read {ch!r} in {line.strip()[:60]!r}")


def read_abcd(text: str, name: str = "score", fingering: int = 1, source: str = "") -> Score:
    """A Score from abcD text: upper staff = right hand (V:1), lower = left (V:2); fingering N (1-based)."""
    header_key: dict[str, int] = {}
    header_octave = 0
    title = name
    voices: dict[str, _Voice] = {}
    bodies: dict[str, list[tuple[int, str]]] = {}
    current: str | None = None
    declared: dict[str, int] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("%", 1)[0].rstrip() if not raw.startswith("%") else ""
        if not line.strip():
            continue
        if line.startswith("V:"):
            words = line[2:].split()
            vid = words[0]
            params = " ".join(words[1:])
            if params:  # a declaration (in the header): clef and octave
                declared[vid] = _octave_param(params) if _octave_param(params) is not None else header_octave
            if current is None and params and not bodies:
                continue
            current = vid
            bodies.setdefault(vid, [])
            continue
        if current is None:
            if line.startswith("T:"):
                title = line[2:].strip()
            elif line.startswith("K:"):
                value = line[2:]
                if (key := _key_name(value)):
                    header_key = _key_accidentals(key)
                if (o := _octave_param(value)) is not None:
                    header_octave = o
            continue
        bodies[current].append((lineno, line))
    if not bodies:
        raise AbcdError(f"{name}: no voices (V:1, V:2) with music")
    fingerings = parse_fingerings(text)
    notes: list[ExpectedNote] = []
    names: dict[int, str] = {}
    for vid, lines in bodies.items():
        hand = VOICE_HANDS.get(vid)
        if hand is None:
            raise AbcdError(f"{name}: voice V:{vid}; expected V:1 (right hand) and V:2 (left hand)")
        voice = _Voice(hand, declared.get(vid, header_octave), dict(header_key))
        _read_body(voice, lines, f"{name} V:{vid}")
        voices[vid] = voice
        fingers: list[int | None] = [None] * len(voice.notes)
        if fingering <= len(fingerings):
            written = fingerings[fingering - 1][hand]
            if written == [None]:
                pass  # the transcription gives no fingering for this hand
            elif len(written) != len(voice.notes):
                raise AbcdError(f"{name}: fingering {fingering} has {len(written)} fingers for the {hand} hand's "
                                f"{len(voice.notes)} notes")
            else:
                fingers = written
        for (pitch, beat, duration, bar, passage), finger in zip(voice.notes, fingers):
            notes.append(ExpectedNote(0, pitch, hand, finger, beat, duration, bar, passage))
        for k, v in voice.passage_names.items():
            names.setdefault(k, v)
    count = max(n.passage for n in notes)
    passages = [names.get(i, f"passage {i}") for i in range(1, count + 1)]
    return Score(name, title, notes, passages, source)


def read_abcd_file(path: str | Path, name: str | None = None, source: str = "") -> Score:
    path = Path(path)
    return read_abcd(path.read_text(encoding="utf-8"), name or path.stem, source=source)

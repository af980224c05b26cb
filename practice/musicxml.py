"""MusicXML scores with their fingering marks, read with partitura: staff 1 (or the first part) is the right hand."""
from __future__ import annotations

import warnings
from pathlib import Path

from pianocam.practice.score import ExpectedNote, Score


def _finger(note) -> int | None:
    for mark in getattr(note, "technical", None) or []:
        finger = getattr(mark, "fingering", None)
        if finger is not None and 1 <= int(finger) <= 5:
            return int(finger)
    return None


def read_musicxml(path: str | Path) -> Score:
    """Every note (ties merged) with its pitch, onset in quarter notes, hand and written finger."""
    import partitura

    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # partitura warns on every unsupported element
        document = partitura.load_musicxml(str(path))
    parts = list(document.parts)
    if not parts:
        raise ValueError("no parts")
    notes = []
    for part_number, part in enumerate(parts[:2]):
        quarters = part.quarter_map
        for note in part.notes_tied:
            if len(parts) > 1:
                hand = "right" if part_number == 0 else "left"
            else:
                hand = "right" if (note.staff or 1) == 1 else "left"
            beat = float(quarters(note.start.t))
            end = float(quarters(note.end_tied.t if note.end_tied is not None else note.end.t))
            notes.append(ExpectedNote(0, int(note.midi_pitch), hand, _finger(note), beat, end - beat))
    if not notes:
        raise ValueError("no notes")
    title = getattr(document, "work_title", None) or getattr(document, "movement_title", None) or path.stem
    return Score(path.stem, str(title), notes)

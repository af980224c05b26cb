"""The built-in exercises (Beringer & Dunhill, Ode to Joy) and any score file, found by name."""
from __future__ import annotations

import functools
import json
from pathlib import Path

from pianocam.practice.score import Score

DATA = Path(__file__).resolve().parent / "exercises"
BERINGER_FILE = DATA / "beringer.json"
BERINGER_SOURCE = ("Beringer & Dunhill, Daily Technical Studies (1900); abcD transcription by David A. Randolph, "
                   "pydactyl data/corpora/beringer2 (MIT)")
# Sixteenth notes at 60 quarter notes per minute: four notes a second, a student's practice tempo.
KIND_TEMPO = 60.0
OWN_SCORES = ("ode_to_joy.abcd",)


class ExerciseError(ValueError):
    """No such exercise, or a score file that cannot be read."""


@functools.lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    """Every built-in exercise by name, as stored (Score.from_dict reads one)."""
    from pianocam.practice.abcd import read_abcd_file

    data = json.loads(BERINGER_FILE.read_text())
    out = {s["name"]: s for s in data["scores"]}
    for file in OWN_SCORES:
        score = read_abcd_file(DATA / file, source="pianocam (own transcription, fingering as a teacher marks it)")
        out[score.name] = score.to_dict()
    return out


def names() -> list[str]:
    return list(catalogue())


def exercise(name: str) -> Score:
    """A built-in exercise by its full name (scales/c_major) or a unique ending of it (c_major_scale no)."""
    table = catalogue()
    if name in table:
        return Score.from_dict(table[name])
    matches = [n for n in table if n.endswith("/" + name) or n.split("/")[-1] == name]
    if len(matches) == 1:
        return Score.from_dict(table[matches[0]])
    if matches:
        raise ExerciseError(f"exercise {name!r} is ambiguous: {', '.join(matches)}")
    raise ExerciseError(f"no exercise {name!r}; `pianocam exercises` lists them")


def load_score(path: str | Path) -> Score:
    """A score file: abcD (.abcd/.abc), MusicXML (.musicxml/.xml/.mxl, fingering marks read) or Score JSON."""
    path = Path(path)
    if not path.is_file():
        raise ExerciseError(f"{path}: no such score file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".abcd", ".abc"):
            from pianocam.practice.abcd import read_abcd_file
            return read_abcd_file(path)
        if suffix in (".musicxml", ".xml", ".mxl"):
            from pianocam.practice.musicxml import read_musicxml
            try:
                return read_musicxml(path)
            except (ValueError, KeyError, TypeError, OSError):
                raise
            except Exception as err:  # lxml's and partitura's own errors for a file that is not MusicXML
                raise ExerciseError(f"{path}: not a MusicXML score this reader can read ({err})") from err
        if suffix == ".json":
            return Score.from_dict(json.loads(path.read_text()))
    except ExerciseError:
        raise
    except (ValueError, KeyError, TypeError, OSError) as err:
        raise ExerciseError(f"{path}: {err}") from err
    raise ExerciseError(f"{path}: unknown score format {suffix!r} (abcD, MusicXML or JSON)")


def resolve(exercise_name: str | None = None, score_path: str | None = None, hands: str = "together",
            passage: int | None = None) -> Score:
    """The score to practise from a command's or a request's options."""
    if bool(exercise_name) == bool(score_path):
        raise ExerciseError("give an exercise or a score, one of them")
    score = exercise(exercise_name) if exercise_name else load_score(score_path)
    try:
        return score.select(hands, passage)
    except ValueError as err:
        raise ExerciseError(str(err)) from err

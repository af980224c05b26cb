"""Regenerates practice/exercises/beringer.json from the Beringer & Dunhill abcD corpus (pydactyl's beringer2).

    .venv/bin/python -m pianocam.practice.import_beringer ../shared/data/real/fingerings/beringer2

The unit cannot read ../shared, so the parsed exercises ship as package data (MIT, with the
licence and attribution beside them in practice/exercises/).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pianocam.practice.abcd import AbcdError, read_abcd_file
from pianocam.practice.exercises import BERINGER_FILE, BERINGER_SOURCE, KIND_TEMPO

CATEGORIES = ("scales", "arpeggios", "broken_chords")


def import_corpus(folder: Path) -> list[dict]:
    scores = []
    for category in CATEGORIES:
        files = sorted((folder / category).glob("*.abcd"))
        if not files:
            raise AbcdError(f"{folder / category}: no .abcd files")
        for path in files:
            score = read_abcd_file(path, name=f"{category}/{path.stem}", source=BERINGER_SOURCE)
            score.tempo = KIND_TEMPO
            scores.append(score.to_dict())
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("folder", type=Path, help="the beringer2 folder (scales/, arpeggios/, broken_chords/)")
    parser.add_argument("--out", type=Path, default=BERINGER_FILE)
    args = parser.parse_args(argv)
    try:
        scores = import_corpus(args.folder)
    except (AbcdError, OSError) as err:
        print(f"import_beringer: {err}", file=sys.stderr)
        return 2
    # One score per line: diffs stay readable when the reader changes.
    lines = ",\n".join(json.dumps(s, separators=(",", ":")) for s in scores)
    args.out.write_text(f'{{"source": {json.dumps(BERINGER_SOURCE)},\n"scores": [\n{lines}\n]}}\n')
    print(f"{len(scores)} exercises -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

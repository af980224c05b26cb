"""`pianocam exercises`: every built-in exercise with its notes, hands, passages and fingering."""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="one JSON object per exercise")


def run(args) -> int:
    from pianocam.practice.exercises import catalogue
    from pianocam.practice.score import Score

    for name, data in catalogue().items():
        d = Score.from_dict(data).describe()
        d["source"] = data.get("source", "")
        if args.json:
            print(json.dumps(d))
        else:
            fingering = ("fingered" if not d["unfingered_notes"] else
                         "no fingering in the transcription" if d["unfingered_notes"] == d["notes"] else
                         f"{d['unfingered_notes']} notes unfingered")
            print(f"{name:34} {d['notes']:4} notes  {'+'.join(d['hands']):10} {d['passages']} passage(s)  {fingering}")
    return 0

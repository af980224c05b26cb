"""`pianocam practice`: a recorded performance against an exercise or score, one verdict per note, then a summary."""
from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--exercise", metavar="NAME", help="a built-in exercise (`pianocam exercises`)")
    what.add_argument("--score", metavar="FILE", help="a score with fingering: abcD, MusicXML (.musicxml/.mxl) or JSON")
    parser.add_argument("--hands", choices=("together", "left", "right"), default="together",
                        help="which hands' part is practised (default together)")
    parser.add_argument("--passage", type=int, help="only this passage of the exercise (1-based)")
    parser.add_argument("--tempo", type=float, help="the tempo asked for, quarter notes per minute (for the report)")
    parser.add_argument("--video", required=True, help="video of the keyboard from above")
    notes = parser.add_mutually_exclusive_group(required=True)
    notes.add_argument("--midi", help="the performance's MIDI file")
    notes.add_argument("--audio", help="the performance's audio (notes transcribed with basic-pitch)")
    parser.add_argument("--keymap", help="keymap.json from `pianocam calibrate`; default: calibrate from the video")
    parser.add_argument("--first-c", help="for calibration: the leftmost C in view when neither keyboard end is")
    parser.add_argument("--offset", type=float, default=None,
                        help="seconds the note clock runs ahead of the video; default: estimated")
    parser.add_argument("--complexity", type=int, choices=(0, 1), default=1, help="MediaPipe model (default 1)")
    parser.add_argument("--report", metavar="FILE", help="write the report picture (.png) or page (.html)")
    parser.add_argument("--json", action="store_true", help="one JSON object per note, then the summary (the "
                                                            "default prints a table)")


def fingerings(args) -> list:
    """Every note of the recording with its hand and finger, as `pianocam fingering` decodes them."""
    from pianocam.calibration.keymap import KeyMap
    from pianocam.commands.fingering import _calibrate, _notes
    from pianocam.fingering.assign import assign_fingers, estimate_clock_offset
    from pianocam.hands.tracker import HandTracker
    from pianocam.sources.video import VideoFileSource

    keymap = KeyMap.load(args.keymap) if args.keymap else _calibrate(args.video, args.first_c)
    notes = _notes(args)
    frames = []
    with VideoFileSource(args.video, realtime=False) as source, \
            HandTracker(model_complexity=args.complexity) as tracker:
        while (frame := source.read()) is not None:
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    offset = args.offset if args.offset is not None else estimate_clock_offset(notes, frames, keymap)
    logger.info("%d frames, %d notes, note clock offset %+.3f s", len(frames), len(notes), offset)
    return assign_fingers(notes, frames, keymap, clock_offset=offset)


def judge(score, decoded) -> tuple[list[dict], dict]:
    """Note lines (the note fields plus verdict and expected) and the summary, for decoded Fingerings."""
    from pianocam.practice.follow import Follower, Played
    from pianocam.practice.metrics import summarize

    follower = Follower(score)
    lines = []
    for f in sorted(decoded, key=lambda f: (f.note.onset, f.note.pitch)):
        played = Played(f.note.pitch, f.note.onset, f.hand, f.finger, f.note.velocity)
        for j in follower.play(played):
            lines.append(_line(j, f))
    for j in follower.finish():
        lines.append(_line(j, None))
    summary = summarize(score, follower.log, follower.not_reached(), follower.restarts)
    return lines, summary


def _line(judgement, fingering) -> dict:
    from pianocam.calibration.keymap import note_name

    if judgement.played is None:  # missed: the score's note, nobody played it
        e = judgement.expected
        return {"pitch": e.pitch, "name": note_name(e.pitch), "onset": None, "hand": e.hand, "finger": None,
                "played": False, **judgement.fields()}
    out = {"pitch": fingering.note.pitch, "name": fingering.note.name, "onset": round(fingering.note.onset, 4),
           "velocity": fingering.note.velocity, "hand": fingering.hand, "finger": fingering.finger,
           "confidence": round(fingering.confidence, 3), "played": True}
    return {**out, **judgement.fields()}


def run(args) -> int:
    from pianocam.practice.exercises import ExerciseError, resolve

    try:
        score = resolve(args.exercise, args.score, args.hands, args.passage)
        decoded = fingerings(args)
    except (ExerciseError, ValueError, OSError) as err:
        print(f"pianocam practice: {err}", file=sys.stderr)
        return 2
    lines, summary = judge(score, decoded)
    summary["tempo"]["target"] = args.tempo
    for line in lines:
        if args.json:
            print(json.dumps(line))
        else:
            e = line["expected"] or {}
            print(f"{line['onset'] if line['onset'] is not None else '':>8}  {line['name']:4}  "
                  f"{line['hand'] or '?':5} {line['finger'] or '?'}  written {e.get('finger') or '-'}  "
                  f"bar {e.get('bar', '-'):>2}  {line['verdict']}")
    if args.json:
        print(json.dumps({"summary": summary}))
    else:
        s = summary
        print(f"right notes {s['right_notes'] or 0:.0%}, fingering as written {s['fingering_as_written'] or 0:.0%}, "
              f"tempo {s['tempo']['bpm'] or 0:.0f} bpm, skill {s['skill']['score']} ({s['skill']['rubric']})")
    if args.report:
        from pianocam.practice.report import write_report
        write_report(args.report, score, lines, summary)
    return 0

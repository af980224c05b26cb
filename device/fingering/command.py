"""`pianocam fingering`: fingers for every note of a recorded performance, as JSON lines."""
from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--video", required=True, help="video of the keyboard from above")
    notes = parser.add_mutually_exclusive_group(required=True)
    notes.add_argument("--midi", help="the performance's MIDI file (note timing from it)")
    notes.add_argument("--audio", help="the performance's audio (wav, flac, mp3): notes transcribed with basic-pitch")
    parser.add_argument("--keymap", help="keymap.json from `pianocam calibrate`; default: calibrate from the first frames")
    parser.add_argument("--first-c", help="for calibration: the leftmost C in view when neither keyboard end is")
    parser.add_argument("--offset", type=float, default=None,
                        help="seconds the note clock runs ahead of the video; default: estimated from the data")
    parser.add_argument("--complexity", type=int, choices=(0, 1), default=1, help="MediaPipe model (default 1, full)")
    parser.add_argument("--json", action="store_true", help="one JSON object per note on stdout (the default "
                                                            "prints a table)")


def _calibrate(video: str, first_c: str | None):
    """A key map from the first frame that shows enough of the keyboard, trying frames spread
    over the recording (hands may cover an end of the keyboard for a while)."""
    import cv2

    from ..calibrate_live import calibrate_frame
    from ..config import CalibrationConfig

    capture = cv2.VideoCapture(video)
    if not capture.isOpened():
        raise ValueError(f"cannot open video {video}")
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
    error = "no frame"
    provisional = None
    for index in sorted({0, *range(0, count, max(1, count // 40))}):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = capture.read()
        if not ok:
            continue
        keymap, error = calibrate_frame(image, CalibrationConfig(first_c=first_c or ""))
        if keymap is not None:
            logger.info("calibrated from frame %d", index)
            return keymap
        if provisional is None and not first_c:
            from pianocam.calibration.from_notes import provisional_keymap
            provisional = provisional_keymap(image)
    if provisional is not None:
        logger.info("keys located but not numbered (%s): numbering them from the notes", error)
        return provisional
    raise ValueError(f"could not calibrate from {video}: {error}")


def _number_from_notes(notes, frames, keymap):
    """The provisional key map renumbered by the notes played on it, or a ValueError saying why not."""
    from pianocam.calibration.from_notes import number_from_notes, renumber

    verdict, offset = number_from_notes(notes, frames, keymap)
    if not verdict.decided:
        top = sorted(verdict.votes.items(), key=lambda kv: -kv[1])[:3]
        raise ValueError(f"the notes do not tell which octave the keys are ({verdict.notes} notes, votes by "
                         f"shift {top}): give --first-c (the leftmost C in view) or --keymap")
    logger.info("numbered from the notes: shift %+d semitones, %d of %d notes agree (clock offset %+.3f s)",
                verdict.shift, verdict.votes[verdict.shift], verdict.notes, offset)
    return renumber(keymap, verdict.shift)


def _notes(args):
    if args.midi:
        from ..notes.midi import read_midi_notes
        return read_midi_notes(args.midi)
    from ..notes.audio import AudioFileSource
    source = AudioFileSource(args.audio).open()
    notes = []
    try:
        while (due := source.poll(0.5)) is not None:
            notes += due
    finally:
        source.close()
    return notes


def run(args) -> int:
    from ..fingering.assign import assign_fingers, estimate_clock_offset
    from ..hands import HandTracker
    from ..keyboard import KeyMap
    from ..sources.video import VideoFileSource

    try:
        keymap = KeyMap.load(args.keymap) if args.keymap else _calibrate(args.video, args.first_c)
        notes = _notes(args)
    except (ValueError, OSError) as err:
        print(f"pianocam fingering: {err}", file=sys.stderr)
        return 2
    frames = []
    with VideoFileSource(args.video, realtime=False) as source, HandTracker(model_complexity=args.complexity) as tracker:
        while (frame := source.read()) is not None:
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    if keymap.numbered_by == "provisional":
        try:
            keymap = _number_from_notes(notes, frames, keymap)
        except ValueError as err:
            print(f"pianocam fingering: {err}", file=sys.stderr)
            return 2
    offset = args.offset if args.offset is not None else estimate_clock_offset(notes, frames, keymap)
    logger.info("%d frames, %d notes, key map %d keys, note clock offset %+.3f s",
                len(frames), len(notes), len(keymap.keys), offset)
    results = assign_fingers(notes, frames, keymap, clock_offset=offset)
    for r in results:
        line = {"pitch": r.note.pitch, "name": r.note.name, "onset": round(r.note.onset, 4), "hand": r.hand,
                "finger": r.finger, "confidence": round(r.confidence, 3)}
        print(json.dumps(line) if args.json else
              f"{line['onset']:8.3f}  {line['name']:4}  {line['hand'] or '?':5}  {line['finger'] or '?'}  "
              f"{line['confidence']:.2f}")
    return 0

"""`pianocam fingering`: fingers for every note of a recorded performance, as JSON lines."""
from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser, output: bool = True) -> None:
    parser.add_argument("--video", required=True, help="video of the keyboard from above")
    notes = parser.add_mutually_exclusive_group()
    notes.add_argument("--midi", help="the performance's MIDI file (note timing from it)")
    notes.add_argument("--audio", help="the performance's audio (wav, flac, mp3, or a video's sound: mp4, mov, "
                                       "mkv): notes transcribed with basic-pitch")
    notes.add_argument("--vision", nargs="?", const="motion", choices=("motion", "surface", "strokes", "keys", "both"),
                       help="no MIDI, no sound: notes from the camera alone: fingertip strokes and key motion in the "
                            "black-key band together, following the camera (motion, the default: real close-up F1 0.87, "
                            "held-out partial clip 0.35), the keys' uncovered tops: a white key's stepping darker under a "
                            "fingertip, a black key's neighbours' strips brighter (surface, for views that show the "
                            "keys' tops beside the fingers: partial clip 0.90, set on it; close-up 0.55), fingertips "
                            "seen striking alone "
                            "(strokes: close-up 0.75), "
                            "keys seen darkening (keys: rendered F1 0.96, close-up 0.15), or strokes and keys (both); "
                            "benchmarks/fingering_real.py")
    parser.epilog = ("With no --midi, --audio or --vision the notes come from the video's own soundtrack, "
                     "when it has one. Which note source was used is said on stderr.")
    parser.add_argument("--keymap", help="keymap.json from `pianocam calibrate`; default: calibrate from the first frames")
    parser.add_argument("--first-c", help="for calibration: the leftmost C in view when neither keyboard end is")
    parser.add_argument("--camera", choices=("moving", "fixed"), default="moving",
                        help="moving (default): each frame is registered to the key map's frame (OpenCV ECC on the "
                             "keys), so a hand-held camera's motion does not move the keys under the fingers (real "
                             "partial clip: 4/10 -> 9/10 notes right; --vision's presses: F1 0.20 -> 0.35); fixed: the "
                             "key map as made, for every frame. A "
                             "--keymap is taken to be of the video's first frame")
    parser.add_argument("--offset", type=float, default=None,
                        help="seconds the note clock runs ahead of the video; default: estimated from the data")
    parser.add_argument("--complexity", type=int, choices=(0, 1), default=1, help="MediaPipe model (default 1, full)")
    # Offline a missed hand costs notes and a false one costs little: 0.2 finds the real Ode to Joy
    # hand from its 5th frame instead of its 33rd (30/30 notes instead of 27/30), rendered 99.2 → 99.3 %
    # (benchmarks/fingering_real.py --detection 0.2 against 0.5).
    parser.add_argument("--min-detection", type=float, default=0.2, metavar="P",
                        help="MediaPipe palm detector threshold (default 0.2; the unit's live tracker uses 0.5)")
    if output:
        parser.add_argument("--fps", type=float, default=0.0,
                            help="process only this many frames a second of the video, as a slower board would (a "
                                 "Pi 4 tracks at 5-10); default every frame")
        parser.add_argument("--json", action="store_true", help="one JSON object per note on stdout (the default "
                                                            "prints a table)")


def _calibrate(video: str, first_c: str | None):
    """A key map from the first frame that shows enough of the keyboard, trying frames spread
    over the recording (hands may cover an end of the keyboard for a while)."""
    return calibrate_video(video, first_c)[0]


def calibrate_video(video: str, first_c: str | None):
    """As _calibrate, with the index of the frame the key map was made on."""
    import cv2

    from pianocam.calibration.live import calibrate_frame
    from pianocam.config import CalibrationConfig

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
            return keymap, index
        if provisional is None and not first_c:
            from pianocam.calibration.from_notes import provisional_keymap
            provisional = provisional_keymap(image), index
            if provisional[0] is None:
                provisional = None
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


SOURCE_WORDS = {"midi": "the MIDI file", "audio": "basic-pitch on the audio of",
                "soundtrack": "basic-pitch on the video's soundtrack,", "vision": "the camera alone,"}


def _note_source(args) -> tuple[str, str]:
    """(kind, path) of the notes: midi, audio (a sound file or a video's soundtrack) or vision."""
    from pianocam.notes.audio import has_soundtrack

    if args.midi:
        return "midi", args.midi
    if args.audio:
        return "audio", args.audio
    if getattr(args, "vision", None):
        return "vision", args.video
    if has_soundtrack(args.video):
        return "soundtrack", args.video
    raise ValueError(f"{args.video} has no audio track to take notes from: give --midi, --audio or --vision")


def _notes(args):
    """The notes of a recording as its arguments name them (used by `pianocam practice` too)."""
    return _read_notes(*_note_source(args))


def _read_notes(kind: str, path: str):
    if kind == "midi":
        from pianocam.notes.midi import read_midi_notes
        return read_midi_notes(path)
    from pianocam.notes.audio import audio_file_source
    with audio_file_source(path) as source:
        return source.read_all()


def estimate_offset(args, kind: str, notes, frames, keymap) -> float:
    """Seconds the note clock runs ahead of the video: given, or estimated for a separate file's notes.
    Vision notes are timed by the frames themselves, and a soundtrack shares the picture's clock
    (the container keeps them in step)."""
    from pianocam.fingering.assign import estimate_clock_offset

    if args.offset is not None:
        return args.offset
    return 0.0 if kind in ("vision", "soundtrack") else estimate_clock_offset(notes, frames, keymap)


def _camera_motion(video: str, index: int, keymap, complexity: int, min_detection: float):
    """The camera's motion against frame `index` of the video (the key map's), frame by frame."""
    import cv2

    from pianocam.calibration.motion import CameraMotion
    from pianocam.hands.tracker import HandTracker

    capture = cv2.VideoCapture(video)
    capture.set(cv2.CAP_PROP_POS_FRAMES, index)
    ok, image = capture.read()
    capture.release()
    if not ok:
        raise ValueError(f"cannot read frame {index} of {video}")
    with HandTracker(model_complexity=complexity, min_detection_confidence=min_detection, static=True) as tracker:
        hands = tracker.process(image, index, 0.0)
    return CameraMotion(image, keymap, [h.landmarks for h in hands.hands])


def run(args) -> int:
    from pianocam.calibration.keymap import KeyMap
    from pianocam.fingering.assign import assign_fingers
    from pianocam.hands.steady import in_reference
    from pianocam.hands.tracker import HandTracker
    from pianocam.sources import SourceError
    from pianocam.sources.pacing import FramePacer
    from pianocam.sources.video import VideoFileSource

    try:
        kind, path = _note_source(args)
        keymap, made_on = (KeyMap.load(args.keymap), 0) if args.keymap else calibrate_video(args.video, args.first_c)
        notes = [] if kind == "vision" else _read_notes(kind, path)
    except (ValueError, OSError, SourceError) as err:
        print(f"pianocam fingering: {err}", file=sys.stderr)
        return 2
    if args.fps < 0:
        print(f"pianocam fingering: --fps must be positive, not {args.fps:g}", file=sys.stderr)
        return 2
    pacer = FramePacer(args.fps)
    frames = []
    strokes = keys = presses = None
    if kind == "vision":
        from pianocam.notes.presses import PressFinder
        from pianocam.notes.strokes import StrokeDetector
        from pianocam.notes.vision import KeyPressDetector
        strokes = StrokeDetector(keymap) if args.vision in ("strokes", "both") else None
        keys = KeyPressDetector(keymap) if args.vision in ("keys", "both") else None
        presses = PressFinder(keymap, surface=args.vision == "surface") if args.vision in ("motion", "surface") else None
    seen = {"strokes": [], "keys": []}
    try:
        motion = (_camera_motion(args.video, made_on, keymap, args.complexity, args.min_detection)
                  if args.camera == "moving" else None)
    except ValueError as err:
        print(f"pianocam fingering: {err}", file=sys.stderr)
        return 2
    with VideoFileSource(args.video, realtime=False) as source, \
            HandTracker(model_complexity=args.complexity, min_detection_confidence=args.min_detection) as tracker:
        tracker.follow(keymap)   # the keyboard-sized view
        while (frame := source.read()) is not None:
            if not pacer.keep(frame.t):
                continue
            hands = tracker.process(frame.image, frame.index, frame.t)
            homography = None
            if motion is not None:
                homography = motion.update(frame.image, [h.landmarks for h in hands.hands])[0]
            frames.append(in_reference(hands, homography) if homography is not None else hands)
            # The strokes and keys darkening detectors look at the hands and keys as the camera saw them;
            # the presses take the camera's motion (keys sampled where they now lie, fingertips moved back).
            if strokes is not None:
                seen["strokes"] += strokes.update(hands, frame.t)
            if keys is not None:
                seen["keys"] += keys.update(frame.image, hands, frame.t)
            if presses is not None:
                presses.update(frame.image, hands, frame.t, homography)
    if kind == "vision":
        from pianocam.notes.strokes import merge_notes
        notes = presses.notes() if presses is not None else merge_notes(seen["strokes"], seen["keys"])
    how = f" ({args.vision})" if kind == "vision" else ""
    print(f"pianocam fingering: notes from {SOURCE_WORDS[kind]} {path}{how}: {len(notes)} notes", file=sys.stderr)
    # Vision notes take their pitch from this very map, so they cannot number it.
    if keymap.numbered_by == "provisional" and kind != "vision":
        try:
            keymap = _number_from_notes(notes, frames, keymap)
        except ValueError as err:
            print(f"pianocam fingering: {err}", file=sys.stderr)
            return 2
    offset = estimate_offset(args, kind, notes, frames, keymap)
    logger.info("%d frames%s, %d notes, key map %d keys, note clock offset %+.3f s",
                len(frames), f" at {args.fps:g} fps" if args.fps else "", len(notes), len(keymap.keys), offset)
    results = assign_fingers(notes, frames, keymap, clock_offset=offset)
    for r in results:
        line = {"pitch": r.note.pitch, "name": r.note.name, "onset": round(r.note.onset, 4), "hand": r.hand,
                "finger": r.finger, "confidence": round(r.confidence, 3), "source": r.note.source}
        print(json.dumps(line) if args.json else
              f"{line['onset']:8.3f}  {line['name']:4}  {line['hand'] or '?':5}  {line['finger'] or '?'}  "
              f"{line['confidence']:.2f}")
    return 0

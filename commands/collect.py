"""`pianocam collect`: training clips for seed 003's network from a recording, with the notes as teacher.

Every note the decoder gives a finger with high confidence (and that its hand played alone) becomes a
12-frame clip centred on that fingertip, labelled by the finger; the same moment centred on the
neighbouring fingertips (which did not press) and stretches where a hand struck nothing become
clips labelled none. The crops stay in --out on the machine that made them.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

ALONE_S = 0.06      # a positive's hand struck no other note this close to it (a chord: no one finger)
QUIET_S = 0.4       # a negative's hand struck no note this close to it


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from pianocam.commands.fingering import add_arguments as fingering_arguments

    fingering_arguments(parser, output=False)
    parser.add_argument("--out", required=True, metavar="DIR", help="folder for NAME.npz and NAME.json")
    parser.add_argument("--name", help="dataset name (default: the video's file name without suffix)")
    parser.add_argument("--group", help="hold-out group written with the clips (default: the name)")
    parser.add_argument("--min-confidence", type=float, default=0.8,
                        help="notes decoded with less confidence are not used (default 0.8)")
    parser.add_argument("--negatives", type=float, default=0.5,
                        help="clips of a hand striking nothing, per positive clip (default 0.5)")
    parser.add_argument("--max-clips", type=int, default=400, help="at most this many positive clips (default 400)")
    parser.add_argument("--truth", metavar="JSON", help="truth to store beside the teacher's label, for evaluation "
                        "only: a rendered scene's truth.json or tests/fingering/fingering_real.json")


def truth_fingers(path: str, video: str) -> list[tuple[int, float, str, int]]:
    """(pitch, onset s, hand, finger) from a rendered truth.json or the real clips' labels."""
    data = json.loads(Path(path).read_text())
    if "clips" in data:
        entry = next((c for c in data["clips"] if Path(c["file"]).name == Path(video).name), None)
        if entry is None:
            raise ValueError(f"{path}: no labels for {Path(video).name}")
        return [(n["midi"], n["onset_s"], n["hand"], n["finger"]) for n in entry["notes"] if n.get("finger")]
    return [(n["pitch"], n["onset"], n["hand"], n["finger"]) for n in data["notes"]]


def choose_clips(results, frames, offset: float, min_confidence: float, negatives: float, max_clips: int):
    """(reference frame, side, centre finger, teacher label 0-5, note index or -1): each kept note's
    pressing finger, its neighbours at the same moment (none), then quiet moments (none)."""
    times = np.array([h.t for h in frames])
    onsets = {side: np.array([r.note.onset - offset for r in results if r.hand == side]) for side in ("left", "right")}
    chosen, kept = [], 0
    for n, r in enumerate(results):
        if r.finger is None or r.confidence < min_confidence or kept >= max_clips:
            continue
        t = r.note.onset - offset
        if np.sum(np.abs(onsets[r.hand] - t) < ALONE_S) > 1:
            continue  # a chord: more than one finger went down
        ref = int(np.argmin(np.abs(times - t)))
        kept += 1
        chosen.append((ref, r.hand, r.finger, r.finger, n))
        chosen += [(ref, r.hand, f, 0, n) for f in (r.finger - 1, r.finger + 1) if 1 <= f <= 5]
    quiet = [(i, side) for side in ("left", "right") for i, h in enumerate(frames)
             if h.side(side) is not None and not np.any(np.abs(onsets[side] - h.t) < QUIET_S)]
    want = int(round(negatives * kept))
    if quiet and want:
        picks = np.linspace(0, len(quiet) - 1, min(want, len(quiet))).round().astype(int)
        chosen += [(quiet[p][0], quiet[p][1], 1 + p % 5, 0, -1) for p in sorted(set(picks))]
    return chosen


def run(args) -> int:
    from pianocam.calibration.keymap import KeyMap
    from pianocam.commands.fingering import _calibrate, _note_source, _read_notes, estimate_offset
    from pianocam.fingering.assign import assign_fingers
    from pianocam.fingering.crops import cut_clips
    from pianocam.hands.tracker import HandTracker
    from pianocam.sources import SourceError
    from pianocam.sources.video import VideoFileSource

    try:
        kind, path = _note_source(args)
        if kind == "vision":
            raise ValueError("--vision: collect needs notes timed by MIDI or sound as its teacher")
        keymap = KeyMap.load(args.keymap) if args.keymap else _calibrate(args.video, args.first_c)
        notes = _read_notes(kind, path)
        truth = truth_fingers(args.truth, args.video) if args.truth else None
    except (ValueError, OSError, SourceError) as err:
        print(f"pianocam collect: {err}", file=sys.stderr)
        return 2
    frames = []
    with VideoFileSource(args.video, realtime=False) as source, \
            HandTracker(model_complexity=args.complexity, min_detection_confidence=args.min_detection) as tracker:
        while (frame := source.read()) is not None:
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    offset = estimate_offset(args, kind, notes, frames, keymap)
    results = assign_fingers(notes, frames, keymap, clock_offset=offset)
    chosen = choose_clips(results, frames, offset, args.min_confidence, args.negatives, args.max_clips)
    clips = cut_clips(args.video, frames, chosen, keymap)
    labels = np.array([c[3] for c in chosen], dtype=np.int64)
    note_index = np.array([c[4] for c in chosen], dtype=np.int64)
    true_finger = np.full(len(chosen), -1)      # the truth's label for each clip, -1 where unknown
    if truth is not None:
        from pianocam.notes.evaluate import match_notes

        pairs = dict(match_notes([(r.note.pitch, r.note.onset) for r in results], [(p, t) for p, t, _, _ in truth]))
        for k, c in enumerate(chosen):
            if c[4] < 0:
                true_finger[k] = 0
            elif c[4] in pairs and truth[pairs[c[4]]][2] == c[1]:
                true_finger[k] = c[2] if truth[pairs[c[4]]][3] == c[2] else 0
    name = args.name or Path(args.video).stem
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{name}.npz", frames=clips, labels=labels, truth=true_finger, note=note_index,
                        side=np.array([c[1] for c in chosen]), finger=np.array([c[2] for c in chosen]),
                        onset=np.array([results[c[4]].note.onset if c[4] >= 0 else frames[c[0]].t for c in chosen]),
                        confidence=np.array([results[c[4]].confidence if c[4] >= 0 else 1.0 for c in chosen]))
    positives = int((labels > 0).sum())
    meta = {"name": name, "group": args.group or name, "video": str(args.video), "notes": kind,
            "note_source": str(path), "clock_offset": round(offset, 4), "min_confidence": args.min_confidence,
            "positives": positives, "negatives": len(chosen) - positives, "notes_decoded": len(results),
            "clip": "12 frames, the onset 4th from last; 128x128 BGR uint8, a square 1.6 white keys wide centred on "
                    "one fingertip at the onset (fingering/crops.py); label: that finger if it struck, else 0",
            "truth": args.truth}
    if truth is not None:
        known = true_finger >= 0
        meta["teacher_agrees_with_truth"] = round(float(np.mean(true_finger[known] == labels[known])), 4) \
            if known.any() else None
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta))
    return 0

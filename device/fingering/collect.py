"""`pianocam collect`: training clips for seed 003's network from a recording, with the notes as teacher.

Every note the decoder gives a finger with high confidence (and that its hand played alone) becomes a
12-frame hand-crop clip labelled by that finger; stretches where a hand struck nothing become
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
    from .command import add_arguments as fingering_arguments

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
                        "only: a rendered scene's truth.json or tests/device/fingering_real.json")


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
    """(reference frame index, side, teacher label 0-5, note or None) for positives then negatives."""
    times = np.array([h.t for h in frames])
    onsets = {side: np.array([r.note.onset - offset for r in results if r.hand == side]) for side in ("left", "right")}
    chosen = []
    for r in results:
        if r.finger is None or r.confidence < min_confidence:
            continue
        t = r.note.onset - offset
        if np.sum(np.abs(onsets[r.hand] - t) < ALONE_S) > 1:
            continue  # a chord or a fast run: which finger moved is not one answer
        chosen.append((int(np.argmin(np.abs(times - t))), r.hand, r.finger, r))
    chosen = chosen[:max_clips]
    quiet = [(i, side) for side in ("left", "right") for i, h in enumerate(frames)
             if h.side(side) is not None and not np.any(np.abs(onsets[side] - h.t) < QUIET_S)]
    want = int(round(negatives * len(chosen)))
    if quiet and want:
        picks = np.linspace(0, len(quiet) - 1, min(want, len(quiet))).round().astype(int)
        chosen += [(quiet[p][0], quiet[p][1], 0, None) for p in sorted(set(picks))]
    return chosen


def cut_clips(video: str, frames, chosen, keymap) -> np.ndarray:
    """(N, 12, 128, 128, 3) uint8 BGR crops, reading the video once."""
    from ..sources.video import VideoFileSource
    from .crops import FRAMES, SIZE, clip_frames, crop, crop_box

    out = np.zeros((len(chosen), FRAMES, SIZE, SIZE, 3), np.uint8)
    boxes = [crop_box(frames[ref], side, keymap.white_key_width_px) for ref, side, _, _ in chosen]
    wanted: dict[int, list[tuple[int, int]]] = {}
    for n, (ref, _, _, _) in enumerate(chosen):
        for slot, index in enumerate(clip_frames(ref)):
            wanted.setdefault(min(max(index, 0), len(frames) - 1), []).append((n, slot))
    with VideoFileSource(video, realtime=False) as source:
        index = 0
        while (frame := source.read()) is not None:
            for n, slot in wanted.get(index, []):
                out[n, slot] = crop(frame.image, boxes[n])
            index += 1
    return out


def run(args) -> int:
    from ..fingering.assign import assign_fingers
    from ..hands import HandTracker
    from ..sources import SourceError
    from ..sources.video import VideoFileSource
    from ..keyboard import KeyMap
    from .command import _calibrate, _note_source, _notes, estimate_offset

    try:
        kind, path = _note_source(args)
        if kind == "vision":
            raise ValueError("--vision: collect needs notes timed by MIDI or sound as its teacher")
        keymap = KeyMap.load(args.keymap) if args.keymap else _calibrate(args.video, args.first_c)
        notes = _notes(kind, path)
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
    true_finger = np.full(len(chosen), -1)
    if truth is not None:
        from ..notes.evaluate import match_notes

        positives = [(n, c[3]) for n, c in enumerate(chosen) if c[3] is not None]
        pairs = match_notes([(p, t) for p, t, _, _ in truth], [(r.note.pitch, r.note.onset) for _, r in positives])
        for i, j in pairs:
            true_finger[positives[j][0]] = truth[i][3] if truth[i][2] == positives[j][1].hand else -1
        true_finger[[n for n, c in enumerate(chosen) if c[3] is None]] = 0
    name = args.name or Path(args.video).stem
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{name}.npz", frames=clips, labels=np.array([c[2] for c in chosen]),
                        truth=true_finger, side=np.array([c[1] for c in chosen]),
                        onset=np.array([c[3].note.onset if c[3] else frames[c[0]].t for c in chosen]),
                        pitch=np.array([c[3].note.pitch if c[3] else -1 for c in chosen]),
                        confidence=np.array([c[3].confidence if c[3] else 1.0 for c in chosen]))
    positives = sum(c[3] is not None for c in chosen)
    meta = {"name": name, "group": args.group or name, "video": str(args.video), "notes": kind,
            "note_source": str(path), "clock_offset": round(offset, 4), "min_confidence": args.min_confidence,
            "positives": positives, "negatives": len(chosen) - positives, "notes_decoded": len(results),
            "clip": "12 frames, onset frame 4th from last; 128x128 BGR uint8, a square 6 white keys wide over "
                    "the hand's fingertips at the onset (device/fingering/crops.py)",
            "truth": args.truth}
    if truth is not None:
        known = true_finger[:positives] >= 0
        meta["teacher_agrees_with_truth"] = round(float(np.mean(
            true_finger[:positives][known] == np.array([c[2] for c in chosen[:positives]])[known])), 4) \
            if known.any() else None
    (out / f"{name}.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(json.dumps(meta))
    return 0

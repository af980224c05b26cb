"""Practice on rendered exercises: fingering as written, and whether deliberate mistakes are reported exactly.

For each exercise (first passage, hands together, 60 quarter notes per minute, sixteenths), renders it
played with the book's fingering and again with 3 finger changes and 1 wrong note (seeds 1-3), tracks the
hands with MediaPipe (model complexity 1 offline as `pianocam practice` does; 0 live, the unit's default),
maps the keys from the first frame, decodes fingers and follows the score:
  offline  as `pianocam practice` does it: Viterbi over the whole take, clock offset estimated
  live     as the unit does it: FingerAssigner note by note over every frame (no frames dropped)
and prints per exercise the share of notes fingered as written (book takes) and, for the changed takes,
how many of them the follower reported exactly (the verdicts other than right are the changes made, no
more, no fewer). Usage: .venv/bin/python benchmarks/practice.py [--exercises A B ...] [--seeds 1 2 3]
"""
from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from pianocam.commands.fingering import _calibrate
from pianocam.commands.practice import judge
from pianocam.fingering import FingerAssigner, assign_fingers
from pianocam.fingering.assign import estimate_clock_offset
from pianocam.hands.tracker import HandTracker
from pianocam.notes.midi import read_midi_notes
from pianocam.practice.exercises import resolve
from pianocam.scene.exercise import render_exercise
from pianocam.sources.video import VideoFileSource

EXERCISES = ("scales/c_major", "scales/g_major", "scales/f_major", "scales/d_major", "arpeggios/common_c_major",
             "arpeggios/common_g_major", "arpeggios/common_f_major", "broken_chords/c_major", "broken_chords/g_major")


def _frames(video: Path, complexity: int) -> list:
    frames = []
    with VideoFileSource(str(video), realtime=False) as source, HandTracker(model_complexity=complexity) as tracker:
        while (frame := source.read()) is not None:
            frames.append(tracker.process(frame.image, frame.index, frame.t))
    return frames


def _live(notes, frames, keymap) -> list:
    assigner, out, pending = FingerAssigner(keymap), [], sorted(notes, key=lambda n: n.onset)
    for hands in frames:
        due = [n for n in pending if n.onset <= hands.t]
        pending = pending[len(due):]
        if due:
            out += assigner.add_notes(due)
        out += assigner.add_frame(hands)
    return out + assigner.flush()


def take(score, folder: Path, changes: int, wrong: int, seed: int) -> dict:
    written = render_exercise(score, folder, finger_changes=changes, wrong_notes=wrong, seed=seed, audio=False)
    keymap = _calibrate(str(folder / "video.mp4"), None)
    notes = read_midi_notes(folder / "performance.mid")
    truth = sorted((c["index"], c["kind"]) for c in written["changes"])
    out = {}
    for mode, complexity in (("offline", 1), ("live", 0)):
        frames = _frames(folder / "video.mp4", complexity)
        if mode == "offline":
            decoded = assign_fingers(notes, frames, keymap, estimate_clock_offset(notes, frames, keymap))
        else:
            decoded = _live(notes, frames, keymap)
        lines, summary = judge(score, decoded)
        reported = sorted((n["expected"]["index"] if n["expected"] else None, n["verdict"])
                          for n in lines if n["verdict"] != "right")
        out[mode] = {"as_written": summary["fingering_as_written"], "exact": reported == truth,
                     "found": len(set(reported) & set(truth)), "spurious": len(set(reported) - set(truth))}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercises", nargs="+", default=list(EXERCISES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.exercises:
            score = resolve(name, passage=1)
            book = take(score, Path(tmp) / "book", 0, 0, 7)
            changed = [take(score, Path(tmp) / f"changed{s}", 3, 1, s) for s in args.seeds]
            rows.append((name, len(score.notes), book, changed))
            print(json.dumps({"exercise": name, "book": book, "changed": changed}), flush=True)
    n = len(args.seeds)
    print(f"\n| exercise | notes | book: as written, offline / live | 3 finger changes + 1 wrong note: reported "
          f"exactly, offline / live (of {n}) | changes found / spurious, live |")
    print("|---|---|---|---|---|")
    for name, count, book, changed in rows:
        live_found = sum(c["live"]["found"] for c in changed)
        live_spurious = sum(c["live"]["spurious"] for c in changed)
        print(f"| {name} | {count} | {book['offline']['as_written']:.1%} / {book['live']['as_written']:.1%} | "
              f"{sum(c['offline']['exact'] for c in changed)} / {sum(c['live']['exact'] for c in changed)} | "
              f"{live_found} of {4 * n} / {live_spurious} |")


if __name__ == "__main__":
    main()

"""Fingering at a slow board's frame rate: the tracker limited to 5, 8, 10, 15, 20, 30 frames a second.

A board that needs 1/N s a frame takes, each time it is done, the newest frame the camera has: it
processes the frames due at 0, 1/N, 2/N ... s (sources/pacing.py, as `pianocam fingering --fps N`
does). Each rendered performance of benchmarks/fingering.py (the same 10 scenes, 20 s) is tracked anew
at every rate (MediaPipe's tracking between frames sees larger jumps at low rates, so the 30 fps
hands are not merely subsampled), then decoded live as the unit does, notes from MIDI and from the
audio (basic-pitch). Prints hand+finger accuracy and the feedback delay: from a note's onset to its
decision, which waits for the first processed frame after the onset and that frame's 1/N s of work
(the MIDI note arrives at its onset; basic-pitch's own latency is not included). Real clips: share of
processed frames with a hand. Tracked hands are cached beside each scene.
Usage: .venv/bin/python benchmarks/frame_rate.py [--scenes 10] [--seconds 20] [--rates 5 8 10 15 20 30]
       [--view auto|keys|frame] [--no-audio]
"""
from __future__ import annotations

import argparse
import json
import pickle
import time
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from fingering import SETTINGS, first_frame, score, transcribe
from pianocam.calibration.live import calibrate_frame
from pianocam.config import CalibrationConfig
from pianocam.fingering import FingerAssigner
from pianocam.hands.tracker import HandTracker
from pianocam.notes.midi import read_midi_notes
from pianocam.scene import SceneSpec
from pianocam.scene.source import cache_root, cached_scene
from pianocam.sources.pacing import FramePacer

ROOT = Path(__file__).resolve().parents[1]
RATES = (5, 8, 10, 15, 20, 30)


def tracked_at(video: Path, fps: float, keymap, cache: Path | None, view: str = "auto") -> list:
    """Hands of the frames a board running at fps processes (video mode, tracker.view as given)."""
    if cache is not None and cache.exists():
        return pickle.loads(cache.read_bytes())
    capture = cv2.VideoCapture(str(video))
    source_fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    pacer = FramePacer(fps)
    frames, index = [], 0
    with HandTracker(view=view) as tracker:
        tracker.follow(keymap)
        while True:
            ok, image = capture.read()
            if not ok:
                break
            t = index / source_fps
            if pacer.keep(t):
                frames.append(tracker.process(image, index, t))
            index += 1
    if cache is not None:
        cache.write_bytes(pickle.dumps(frames))
    return frames


def live_with_delay(notes, frames, keymap, fps: float) -> tuple[list, list[float]]:
    """Decode live; each decision's delay is the deciding frame's time plus its processing, less the onset."""
    assigner = FingerAssigner(keymap)
    pending = sorted(notes, key=lambda n: n.onset)
    out, delays = [], []
    for hands in frames:
        due = [n for n in pending if n.onset <= hands.t]
        pending = pending[len(due):]
        decided = (assigner.add_notes(due) if due else []) + assigner.add_frame(hands)
        for f in decided:
            out.append(f)
            delays.append(hands.t + 1.0 / fps - f.note.onset)
    return out + assigner.add_notes(pending) + assigner.flush(), delays


def scene_keymap(folder: Path, truth: dict):
    keymap, error = calibrate_frame(first_frame(folder), CalibrationConfig())
    if keymap is None and "first-c" in error:   # as benchmarks/fingering.py: the installer names the leftmost C
        first_c = min((k for k in truth["keys"] if k["name"][0] == "C" and not k["black"] and k["visible"]
                       and 0 <= k["center"][0] < truth["width"]), key=lambda k: k["midi"])["name"]
        keymap, error = calibrate_frame(first_frame(folder), CalibrationConfig(first_c=first_c))
    return keymap


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--rates", type=float, nargs="*", default=list(RATES))
    parser.add_argument("--no-audio", action="store_true")
    parser.add_argument("--view", choices=("auto", "keys", "frame"), default="auto", help="tracker.view")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    sources = ["midi"] + ([] if args.no_audio else ["audio"])
    totals = {(fps, s): Counter() for fps in args.rates for s in sources}
    delays = {(fps, s): [] for fps in args.rates for s in sources}
    began = time.time()
    for seed, keys, piece, tilt, rotate in SETTINGS[: args.scenes]:
        spec = SceneSpec(seed=seed, keys=keys, seconds=args.seconds, piece=piece, tilt=tilt, rotate=rotate)
        folder = cached_scene(spec, cache_root() / "bench-scenes")
        truth = json.loads((folder / "truth.json").read_text())
        keymap = scene_keymap(folder, truth)
        truth_notes = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
        notes = {"midi": read_midi_notes(folder / "performance.mid")}
        if "audio" in sources:
            notes["audio"] = transcribe(folder)
        for fps in args.rates:
            frames = tracked_at(folder / "video.mp4", fps, keymap, folder / f"hands-{args.view}-{fps:g}fps.pkl",
                                args.view)
            for source in sources:
                if keymap is None:
                    decided, waited = [(n, None, None) for n in notes[source]], []
                else:
                    fingerings, waited = live_with_delay(notes[source], frames, keymap, fps)
                    decided = [(f.note, f.hand, f.finger) for f in fingerings]
                s = score(truth_notes, decided)
                for k in ("notes", "right", "unknown", "found"):
                    totals[fps, source][k] += s[k]
                delays[fps, source] += waited
        print(f"  seed {seed} done ({time.time() - began:.0f} s)", flush=True)
    print(f"\n{args.scenes} rendered performances of {args.seconds:g} s, tracked at each rate in video mode "
          f"(complexity 0, tracker.view = {args.view}), decoded live")
    print(f"{'fps':>5} {'notes from':>10} {'notes':>6} {'right':>7} {'unknown':>8} {'delay med':>10} {'p95':>7}")
    for fps in args.rates:
        for source in sources:
            t, d = totals[fps, source], delays[fps, source]
            med, p95 = (np.median(d) * 1000, np.percentile(d, 95) * 1000) if d else (float("nan"),) * 2
            print(f"{fps:>5g} {source:>10} {t['notes']:>6} {t['right'] / max(t['notes'], 1):>7.1%} "
                  f"{t['unknown'] / max(t['found'], 1):>8.1%} {med:>8.0f}ms {p95:>5.0f}ms", flush=True)
    clips = sorted((args.data / "real" / "clips").glob("*.mp4"))
    if clips:
        print("\nreal clips: share of processed frames with a hand (video mode, whole frame: no key map)")
        print(f"{'clip':44} " + " ".join(f"{fps:>6g}" for fps in args.rates))
        for clip in clips:
            cells = []
            for fps in args.rates:
                frames = tracked_at(clip, fps, None, None)
                cells.append(f"{sum(bool(h.hands) for h in frames) / max(len(frames), 1):>6.1%}")
            print(f"{clip.name:44} " + " ".join(cells), flush=True)


if __name__ == "__main__":
    main()

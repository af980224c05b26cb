"""Drift check on rendered frames: a still camera stays ok, a camera moved sideways is caught.

For each of the calibration benchmark's settings (61/76/88 keys, tilt ±15°, rotation ±10°,
four lightings, hands over the keys) the scene is rendered wider than the camera sees, and the
camera's view is a 960-px window of it: a sideways move is the window moved (half a white key to
an octave), so keys the map never had come into view as they would. The keys are mapped from one
frame of the centred window (keyboard size given, or the leftmost C in view when neither end is,
as an installer would); `check_drift` then judges later frames (hands moved on) of the centred
window, of moved windows, and of the centred window rotated 2°.
A still frame called drifted is a false alarm; a moved one called ok is a miss; "unknown"
(too few black keys in view) is counted apart. Then the real one-hand clip from ../shared/data
(a phone over a keyboard): mapped from its first frame, judged every second.

    .venv/bin/python benchmarks/drift.py [--frames 50] [--seed 0]
"""
from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.drift import check_drift
from pianocam.calibration.errors import CalibrationError
from pianocam.scene import Scene

REAL_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "clips" / "esnylmz-ode-to-joy-right-hand.mp4"

# The same 50 settings as benchmarks/calibration.py (a script beside this one, not a package).
_spec = importlib.util.spec_from_file_location("calibration_benchmark", Path(__file__).with_name("calibration.py"))
_calibration_benchmark = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_calibration_benchmark)
settings = _calibration_benchmark.settings

# Sideways moves in white keys; 1.17, 2.92 and 4.08 are 2, 5 and 7 semitones, where 3 or 4 of each
# octave's 5 black keys land on another black key: the hard cases for nearest-key matching.
MOVES = {"still": None, "0.5 key": 0.5, "1 key": 1.0, "2 semis": 7 / 6, "-2 semis": -7 / 6,
         "5 semis": 35 / 12, "7 semis": 49 / 12, "octave": 7.0,
         "rotate 2°": "rotate"}


MARGIN = 200  # px of scene beyond each side of the camera's view: more than an octave's move
VIEW = 960


def wide(spec):
    """The same scene rendered wider at the same scale: the camera's view is its middle VIEW px."""
    width = VIEW + 2 * MARGIN
    return replace(spec, width=width, distance=spec.distance * width / VIEW)


def view(image: np.ndarray, move, key_px: float) -> np.ndarray:
    """What the camera sees after a move: the window shifted (keys move right for move > 0), or rotated."""
    if move is None or move == "rotate":
        centred = image[:, MARGIN:MARGIN + VIEW]
        if move is None:
            return np.ascontiguousarray(centred)
        h, w = centred.shape[:2]
        return cv2.warpAffine(centred, cv2.getRotationMatrix2D((w / 2, h / 2), 2.0, 1.0), (w, h))
    left = MARGIN - int(round(move * key_px))
    return np.ascontiguousarray(image[:, left:left + VIEW])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    verdicts: dict[str, Counter] = defaultdict(Counter)
    times = []
    skipped = 0
    for spec, index in settings(args.frames, args.seed):
        scene = Scene(wide(spec))
        image = view(scene.frame(index)[0], None, 0.0)
        # What an installer knows: the keyboard's size, else the leftmost C in view.
        visible_cs = sorted(k["midi"] for k in scene.keys if k["visible"] and k["midi"] % 12 == 0
                            and MARGIN <= k["center"][0] < MARGIN + VIEW and 0 <= k["center"][1] < image.shape[0])
        attempts = [{"keys": spec.keys}] + ([{"first_c": visible_cs[0]}] if visible_cs else [])
        keymap = None
        for hints in attempts:
            try:
                keymap = detect_keymap(image, **hints)
                break
            except CalibrationError:
                continue
        if keymap is None:
            skipped += 1  # the calibration benchmark reports these; nothing to compare with
            continue
        key_px = keymap.white_key_width_px
        for later in ((index + 45) % scene.frame_count, (index + 90) % scene.frame_count):
            frame, _ = scene.frame(later)
            for name, move in MOVES.items():
                t0 = time.perf_counter()
                report = check_drift(keymap, view(frame, move, key_px))
                times.append((time.perf_counter() - t0) * 1000)
                verdicts[name][report["state"]] += 1
    header = f"{'camera':>10} {'checks':>6} {'ok':>5} {'drifted':>8} {'unknown':>8}  {'verdict right':>13}"
    print(header)
    print("-" * len(header))
    for name, move in MOVES.items():
        c = verdicts[name]
        judged = c["ok"] + c["drifted"]
        right = c["ok"] if move is None else c["drifted"]
        share = f"{right / judged:.1%}" if judged else "-"
        print(f"{name:>10} {sum(c.values()):>6} {c['ok']:>5} {c['drifted']:>8} {c['unknown']:>8}  {share:>13}")
    print(f"\nmaps skipped (calibration error): {skipped}; check_drift median {np.median(times):.1f} ms, "
          f"p95 {np.percentile(times, 95):.1f} ms")
    real_clip()
    return 0


def real_clip() -> None:
    if not REAL_CLIP.exists():
        print(f"\n{REAL_CLIP} not found: real clip skipped")
        return
    capture = cv2.VideoCapture(str(REAL_CLIP))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    keymap = detect_keymap(frames[0], first_c=48)  # neither end in view: its leftmost C is C3
    print(f"\nreal clip {REAL_CLIP.name}: {len(keymap.keys)} keys {keymap.keys[0].name}–{keymap.keys[-1].name} "
          f"mapped from frame 0")
    print(f"{'t (s)':>6} {'state':>8} {'mean error':>10} {'shift':>6} {'black keys':>10}")
    for index in range(0, len(frames), int(round(fps))):
        report = check_drift(keymap, frames[index])
        mean = report["mean_error_key_widths"]
        print(f"{index / fps:>6.1f} {report['state']:>8} {mean if mean is not None else '-':>10} "
              f"{report.get('shift_key_widths', '-'):>6} {report['keys_seen']:>10}")


if __name__ == "__main__":
    sys.exit(main())

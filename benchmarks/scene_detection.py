"""How well real MediaPipe finds the rendered hands: detection rate, fingertip error, handedness.

Run: python benchmarks/scene_detection.py [--quick] [--complexity 0|1]
"""
from __future__ import annotations

import argparse
import time
from collections import Counter

import cv2
import numpy as np

from pianocam.scene import Scene, SceneSpec

TIPS = (4, 8, 12, 16, 20)
# A detection counts as a hand when its fingertips sit, on average, this close to a
# drawn hand's; beyond it the tracker has found something else.
MATCH_PX = 40.0

SETTINGS = (
    ("default", {}),
    ("tilt 12", {"tilt": 12.0}),
    ("rotate 5", {"rotate": 5.0}),
    ("warm, noise 4", {"lighting": "warm", "noise": 4.0}),
    ("uneven, tilt 8, rot -4", {"lighting": "uneven", "tilt": 8.0, "rotate": -4.0}),
)


def match(results, frame_truth):
    """Pair MediaPipe hands with drawn hands; return [(truth hand, label, tip errors)]."""
    pairs = []
    if not results.multi_hand_landmarks:
        return pairs
    drawn = {h: np.array([v["fingertips"][str(f)] for f in range(1, 6)])
             for h, v in frame_truth["hands"].items()}
    used = set()
    for lms, handed in zip(results.multi_hand_landmarks, results.multi_handedness):
        tips = np.array([[lms.landmark[i].x, lms.landmark[i].y] for i in TIPS]) * SIZE
        best = min(((np.linalg.norm(tips - d, axis=1), h) for h, d in drawn.items() if h not in used),
                   key=lambda e: e[0].mean(), default=None)
        if best is not None and best[0].mean() < MATCH_PX:
            used.add(best[1])
            pairs.append((best[1], handed.classification[0].label, best[0]))
    return pairs


def evaluate(spec: SceneSpec, complexity: int):
    import mediapipe as mp

    global SIZE
    SIZE = np.array([spec.width, spec.height], dtype=np.float64)
    scene = Scene(spec)
    both, errors, labels, render_s = 0, [], Counter(), 0.0
    with mp.solutions.hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=complexity,
                                  min_detection_confidence=0.5) as hands:
        for i in range(scene.frame_count):
            t0 = time.perf_counter()
            img, truth = scene.frame(i)
            render_s += time.perf_counter() - t0
            pairs = match(hands.process(cv2.cvtColor(img, cv2.COLOR_BGR2RGB)), truth)
            if {p[0] for p in pairs} == set(truth["hands"]):
                both += 1
            for hand, label, err in pairs:
                errors.extend(err.tolist())
                labels[(hand, label)] += 1
    n = scene.frame_count
    agree = sum(c for (h, lab), c in labels.items() if h == lab.lower())
    total = sum(labels.values())
    return {"frames": n, "both": both / n, "median": float(np.median(errors)) if errors else float("nan"),
            "p95": float(np.percentile(errors, 95)) if errors else float("nan"),
            "agree": agree / total if total else float("nan"), "labels": dict(labels),
            "render_ms": 1000 * render_s / n}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="seed 7 only, default and one tilt")
    parser.add_argument("--complexity", type=int, default=1, choices=(0, 1))
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--keys", type=int, nargs="*", default=[61, 88])
    parser.add_argument("--seeds", type=int, nargs="*", default=[7, 8])
    parser.add_argument("--set", default="", help="extra spec fields for one custom row, e.g. distance=0.8")
    args = parser.parse_args()
    settings = SETTINGS[:2] if args.quick else SETTINGS
    if args.set:
        extra = {k: type(getattr(SceneSpec(), k))(v) for k, v in (kv.split("=") for kv in args.set.split(","))}
        settings = ((args.set, extra),)
    seeds = args.seeds[:1] if args.quick else args.seeds
    print(f"MediaPipe Hands, video mode, complexity {args.complexity}; "
          f"match = mean fingertip error < {MATCH_PX:.0f} px")
    print(f"{'keys':>4} {'seed':>4} {'setting':<24} {'frames':>6} {'both %':>7} {'med px':>7} "
          f"{'p95 px':>7} {'hand ok':>7} {'render ms':>9}  labels (drawn->MediaPipe)")
    for keys in args.keys:
        for seed in seeds:
            for name, extra in settings:
                spec = SceneSpec(seed=seed, keys=keys, seconds=args.seconds, **extra)
                r = evaluate(spec, args.complexity)
                labels = ", ".join(f"{h}->{lab}:{c}" for (h, lab), c in sorted(r["labels"].items()))
                print(f"{keys:>4} {seed:>4} {name:<24} {r['frames']:>6} {100 * r['both']:>7.1f} "
                      f"{r['median']:>7.1f} {r['p95']:>7.1f} {100 * r['agree']:>7.1f} "
                      f"{r['render_ms']:>9.1f}  {labels}", flush=True)


if __name__ == "__main__":
    main()

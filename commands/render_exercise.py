"""The exercise side of `pianocam render` (its options live with the scene's, in commands/cli.py)."""
from __future__ import annotations

import json
import sys

from pianocam.practice.exercises import ExerciseError, resolve
from pianocam.scene.exercise_performance import PerformanceError


def run(args) -> int:
    from pianocam.scene.exercise import render_exercise

    hands = "together" if args.hands == "both" else args.hands
    try:
        score = resolve(args.exercise, args.score, hands, args.passage)
        written = render_exercise(score, args.out, tempo=args.tempo, finger_changes=args.finger_changes,
                                  wrong_notes=args.wrong_notes, seed=args.seed,
                                  timing_jitter_ms=args.timing_jitter, keys=args.keys,
                                  audio=not args.no_audio, width=args.width, height=args.height, fps=args.fps,
                                  tilt=args.tilt, rotate=args.rotate, distance=args.distance,
                                  lighting=args.lighting, noise=args.noise)
    except (ExerciseError, PerformanceError, ValueError) as err:
        print(f"pianocam render: {err}", file=sys.stderr)
        return 2
    print(json.dumps(written, default=str))
    return 0

"""Rendered training clips for seed 003's network: `pianocam render` scenes, each through `pianocam collect`.

Each scene is its own hold-out group (the trainer holds out whole scenes). The leftmost C the
installer would name is read from the scene's truth where neither keyboard end is in view.
Usage: python -m pianocam.export.finger_action.scenes --out DIR [--seeds 201-220] [--seconds 12]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

# No chords: their notes have no one finger to learn from (collect keeps notes a hand played alone).
PIECES = ("scales", "arpeggios", "mixed", "crossings")


def first_c(truth: dict) -> str:
    return min((k for k in truth["keys"] if k["name"][0] == "C" and not k["black"] and k["visible"]
                and 0 <= k["center"][0] < truth["width"]), key=lambda k: k["midi"])["name"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seeds", default="201-220", help="first-last scene seed (default 201-220)")
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--max-clips", type=int, default=80, help="positive clips per scene (default 80)")
    args = parser.parse_args()
    lo, hi = map(int, args.seeds.split("-"))
    pianocam = str(Path(sys.executable).with_name("pianocam"))
    for seed in range(lo, hi + 1):
        scene = args.out / "scenes" / str(seed)
        piece = PIECES[seed % len(PIECES)]
        if not (scene / "truth.json").exists():
            subprocess.run([pianocam, "render", "--seed", str(seed), "--piece", piece, "--seconds", str(args.seconds),
                            "--keys", "61", "--out", str(scene), "--no-audio", "--tilt", str(seed % 3 * 4)],
                           check=True, stdout=subprocess.DEVNULL)
        if (args.out / f"scene-{seed}.npz").exists():
            continue
        truth = json.loads((scene / "truth.json").read_text())
        subprocess.run([pianocam, "collect", "--video", str(scene / "video.mp4"), "--midi",
                        str(scene / "performance.mid"), "--first-c", first_c(truth), "--out", str(args.out),
                        "--name", f"scene-{seed}", "--max-clips", str(args.max_clips),
                        "--truth", str(scene / "truth.json"), "--offset", "0"], check=True)  # one clock: the render


if __name__ == "__main__":
    main()

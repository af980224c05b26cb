"""Hand tracking on real footage: the 37 annotated piano-cover frames and the real clips in ../shared/data.

Prints, per complexity and tiling (tracker.tiles: 1 whole frame, 2 overlapping halves), how many
annotated hands MediaPipe found (landmark centroid inside the box), how many of those got the right
side, false detections, and ms per frame.
Usage: .venv/bin/python benchmarks/real_hands.py [--data ../shared/data]
"""
from __future__ import annotations

import argparse
import statistics
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2

from pianocam.device.hands import HandTracker

ROOT = Path(__file__).resolve().parents[1]


def boxes(xml_path: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    tree = ET.parse(xml_path)
    return [(o.findtext("name"), tuple(int(o.find("bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")))
            for o in tree.findall("object")]


def annotated_frames(data: Path, complexity: int, tiles: int = 1) -> dict:
    found = right_side = truth = extra = 0
    times = []
    tracker = HandTracker(model_complexity=complexity, static=True, tiles=tiles)
    for image_path in sorted(p for p in (data / "real" / "hands").glob("*.jpg") if p.with_suffix(".xml").exists()):
        image = cv2.imread(str(image_path))
        expected = boxes(image_path.with_suffix(".xml"))
        truth += len(expected)
        began = time.perf_counter()
        hands = tracker.process(image)
        times.append((time.perf_counter() - began) * 1000)
        matched = set()
        for hand in hands.hands:
            cx, cy = hand.landmarks[:, :2].mean(axis=0)
            hit = next((i for i, (_, (x0, y0, x1, y1)) in enumerate(expected)
                        if x0 <= cx <= x1 and y0 <= cy <= y1 and i not in matched), None)
            if hit is None:
                extra += 1
                continue
            matched.add(hit)
            found += 1
            right_side += hand.side == expected[hit][0]
    tracker.close()
    return {"hands": truth, "found": found, "side_ok": right_side, "extra": extra,
            "ms": statistics.median(times)}


def clip(path: Path, complexity: int, tiles: int = 1) -> dict:
    capture = cv2.VideoCapture(str(path))
    tracker = HandTracker(model_complexity=complexity, tiles=tiles)
    frames = with_hand = 0
    times = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        began = time.perf_counter()
        hands = tracker.process(image)
        times.append((time.perf_counter() - began) * 1000)
        frames += 1
        with_hand += bool(hands.hands)
    tracker.close()
    return {"frames": frames, "with_hand": with_hand, "ms": statistics.median(times) if times else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    print("annotated real frames (static mode)")
    print(f"{'complexity':>10} {'tiles':>5} {'hands':>6} {'found':>6} {'rate':>7} {'side ok':>8} {'extra':>6} "
          f"{'ms/frame':>9}")
    for complexity in (0, 1):
        for tiles in (1, 2):
            r = annotated_frames(args.data, complexity, tiles)
            print(f"{complexity:>10} {tiles:>5} {r['hands']:>6} {r['found']:>6} {r['found'] / r['hands']:>7.1%} "
                  f"{r['side_ok'] / max(r['found'], 1):>8.1%} {r['extra']:>6} {r['ms']:>9.1f}")
    print("\nreal clips (video/tracking mode)")
    print(f"{'clip':44} {'complexity':>10} {'tiles':>5} {'frames':>7} {'with hand':>10} {'ms/frame':>9}")
    for path in sorted((args.data / "real" / "clips").glob("*.mp4")):
        for complexity in (0, 1):
            for tiles in (1, 2):
                r = clip(path, complexity, tiles)
                print(f"{path.name:44} {complexity:>10} {tiles:>5} {r['frames']:>7} "
                      f"{r['with_hand'] / max(r['frames'], 1):>10.1%} {r['ms']:>9.1f}")


if __name__ == "__main__":
    main()

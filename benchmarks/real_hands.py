"""Hand tracking on real footage (the 37 annotated piano-cover frames, the real clips) and rendered scenes.

Prints, per complexity and what MediaPipe looks at (frame: the whole frame; tiles2: two fixed overlapping
halves, tracker.tiles = 2; auto: tracker.view = auto, the default: the keyboard-sized view of hands/view.py,
with its search tiles, where the key map says hands are small, and tracker.max_hands = auto, the default: up
to four hands where more than two are seen, counted by a census that looks at square tiles as tall as the
frame where hands are small or there is no key map (on a still image also while a hand is missing; a still image
showing more than four takes up to ten after a closer look at squares half its height); auto2: the
same view with max_hands = 2, the default before; keys: that view whenever a key map exists), how many
annotated hands MediaPipe found (landmark centroid inside the box), how many of those got the right side,
false detections, and CPU ms per frame (median of process time, all of MediaPipe's threads: steadier than wall
time on a shared box; on the still frames the second call on each, the first starting the view's graphs).
--why says for each cover frame why its missed hands were missed. The view needs a key map: each frame's own,
from the unit's calibration (calibrate_frame); where it finds the keys but cannot number them, again with a
made-up first_c (the view needs only where the keys are, not their names); frames it cannot map keep the whole
frame. Rendered scenes (88 keys, 61 keys, a close-up, 88 keys from farther) add the fingertip error against
the drawn hands and the share of frames with both hands found.
Usage: .venv/bin/python benchmarks/real_hands.py [--data ../shared/data] [--no-scenes] [--only-view] [--why]
       [--complexity 0 1]
"""
from __future__ import annotations

import argparse
import statistics
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.calibration.live import calibrate_frame
from pianocam.config import CalibrationConfig
from pianocam.hands.tracker import HandTracker

MODES = {"frame": dict(tiles=1, view="frame"), "tiles2": dict(tiles=2, view="frame"), "auto": dict(tiles=1),
         "auto2": dict(tiles=1, max_hands=2), "keys": dict(tiles=1, view="keys")}
# The cover frames by how many hands their boxes hold: one player (at most two), four hands (two players, or
# one performance shown twice), and more (King_Dedede's picture-in-picture collage of five insets: no camera
# over a keyboard sees that, but its hands count in the total).
GROUPS = {"one player": range(0, 3), "four hands": range(3, 5), "collage": range(5, 1000)}
SCENES = {"88 keys, whole": dict(keys=88, seed=8), "61 keys": dict(keys=61, seed=7),
          "close-up (distance 0.6)": dict(keys=61, seed=7, distance=0.6),
          # The whole keyboard in view, hands 11 % of the width: where auto uses the view in video mode.
          "88 keys, farther (1.5)": dict(keys=88, seed=8, distance=1.5)}
MATCH_PX = 40.0   # as benchmarks/scene_detection.py: a detection this close (mean fingertip error) is the hand

ROOT = Path(__file__).resolve().parents[1]


def boxes(xml_path: Path) -> list[tuple[str, tuple[int, int, int, int]]]:
    tree = ET.parse(xml_path)
    return [(o.findtext("name"), tuple(int(o.find("bndbox").findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")))
            for o in tree.findall("object")]


def keymap_for(image) -> tuple[KeyMap | None, str]:
    """The unit's calibration of one frame; numbering guessed where only that is missing (fine for a view)."""
    keymap, error = calibrate_frame(image, CalibrationConfig())
    if keymap is None and "which octave" in error:
        keymap, error = calibrate_frame(image, CalibrationConfig(first_c="C4"))
    return keymap, error


_KEYMAPS: dict = {}


def annotated_frames(data: Path, complexity: int, mode: str = "frame", why: bool = False) -> dict:
    found = right_side = truth = extra = mapped = keymaps = unmapped = 0
    groups = {name: [0, 0] for name in GROUPS}   # hands found, hands, by how many hands the frame holds
    times = []
    paths = sorted(p for p in (data / "real" / "hands").glob("*.jpg") if p.with_suffix(".xml").exists())
    if mode in ("auto", "auto2", "keys"):
        # All maps first: calibrating between the timed calls leaves worker threads busy that process
        # time counts against MediaPipe (auto, the first mode to calibrate, measured 20-40 ms, keys 19-23).
        for image_path in paths:
            if image_path not in _KEYMAPS:
                _KEYMAPS[image_path] = keymap_for(cv2.imread(str(image_path)))
    tracker = HandTracker(model_complexity=complexity, static=True, **MODES[mode])
    for image_path in paths:
        image = cv2.imread(str(image_path))
        expected = boxes(image_path.with_suffix(".xml"))
        truth += len(expected)
        error = ""
        if mode in ("auto", "auto2", "keys"):
            keymap, error = _KEYMAPS[image_path]
            tracker.follow(keymap)
            mapped += tracker.view is not None
            keymaps += keymap is not None
        # A still image: the first call on a new view starts MediaPipe's graphs (about 30 ms each, once on
        # the unit); the second call's cost is the per-frame cost, and its hands are the ones counted.
        tracker.process(image)
        began = time.process_time()
        hands = tracker.process(image)
        times.append((time.process_time() - began) * 1000)
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
        group = groups[next(name for name, sizes in GROUPS.items() if len(expected) in sizes)]
        group[0] += len(matched)
        group[1] += len(expected)
        if mode in ("auto", "auto2", "keys") and error:
            unmapped += len(expected) - len(matched)
        if why and len(matched) < len(expected):
            print(f"  {mode:>5} {image_path.name[:48]:48} {len(matched)}/{len(expected)}: "
                  f"{missed_why(tracker, expected, matched, hands, error, image.shape[1::-1])}")
    tracker.close()
    return {"hands": truth, "found": found, "side_ok": right_side, "extra": extra, "mapped": mapped,
            "keymaps": keymaps, "unmapped": unmapped, "ms": statistics.median(times), "groups": groups}


def missed_why(tracker, expected, matched, hands, error: str, size) -> str:
    """Why each annotated hand was missed: no key map, outside the view, the hand cap, or missed in view
    (with its width as a share of the longer side of the image MediaPipe looked at: the mosaic, a tile)."""
    view = tracker.view
    reasons = []
    for i, (side, (x0, y0, x1, y1)) in enumerate(expected):
        if i in matched:
            continue
        if len(hands.hands) >= tracker.max_hands:
            reasons.append(f"{side}: max_hands={tracker.max_hands} already found")
        elif tracker.view_mode != "frame" and view is None and error:
            reasons.append(f"{side}: no key map ({error.split(':')[0][:50]})")
        elif view is None:
            reasons.append(f"{side}: missed in the whole frame ({(x1 - x0) / max(size):.0%} of it)")
        elif not (x0 >= view.x0 and x1 <= view.x0 + view.width and y0 >= view.y0 and y1 <= view.y0 + view.height):
            reasons.append(f"{side}: outside the view")
        else:
            share = f"{(x1 - x0) / max(view.mosaic_size):.0%} of the mosaic"
            if view.search:
                share += f", {(x1 - x0) / view.height:.0%} of a search tile"
            reasons.append(f"{side}: missed in the view ({share})")
    return "; ".join(reasons)


def clip_keymap(path: Path) -> KeyMap | None:
    """As `pianocam fingering` calibrates: the first of frames spread over the clip that maps."""
    capture = cv2.VideoCapture(str(path))
    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or 1
    for index in range(0, count, max(1, count // 20)):
        capture.set(cv2.CAP_PROP_POS_FRAMES, index)
        ok, image = capture.read()
        if ok and (keymap := keymap_for(image)[0]) is not None:
            return keymap
    return None


def clip(path: Path, complexity: int, mode: str = "frame", keymap: KeyMap | None = None) -> dict:
    capture = cv2.VideoCapture(str(path))
    tracker = HandTracker(model_complexity=complexity, **MODES[mode])
    tracker.follow(keymap)
    frames = with_hand = 0
    times = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        began = time.process_time()
        hands = tracker.process(image)
        times.append((time.process_time() - began) * 1000)
        frames += 1
        with_hand += bool(hands.hands)
    tracker.close()
    return {"frames": frames, "with_hand": with_hand, "ms": statistics.median(times) if times else 0.0,
            "mean": statistics.fmean(times) if times else 0.0,
            "view": tracker.view.describe() if tracker.view else "whole frame"}


def scene_keymap(image, truth: dict):
    """The unit's calibration of the first frame; where neither end is in view, given the leftmost C (as
    an installer would, and as benchmarks/fingering.py does)."""
    keymap, error = calibrate_frame(image, CalibrationConfig())
    if keymap is None and "first-c" in error:
        first_c = min((k for k in truth["keys"] if k["name"][0] == "C" and not k["black"] and k["visible"]
                       and 0 <= k["center"][0] < truth["width"]), key=lambda k: k["midi"])["name"]
        keymap, error = calibrate_frame(image, CalibrationConfig(first_c=first_c))
    return keymap


def scene(spec, complexity: int, mode: str) -> dict:
    """A rendered scene in video mode, the key map from its first frame as the unit makes it."""
    from pianocam.scene.source import SceneSource

    source = SceneSource(spec, realtime=False)
    frames_truth = source.truth()["frames"]
    tracker = HandTracker(model_complexity=complexity, **MODES[mode])
    both = 0
    errors, times = [], []
    with source:
        while (frame := source.read()) is not None:
            if frame.index == 0:
                tracker.follow(scene_keymap(frame.image, source.truth()))
            began = time.process_time()
            hands = tracker.process(frame.image, frame.index, frame.t)
            times.append((time.process_time() - began) * 1000)
            drawn = {h: np.array([v["fingertips"][str(f)] for f in range(1, 6)])
                     for h, v in frames_truth[frame.index]["hands"].items()}
            seen = set()
            for hand in hands.hands:
                tips = np.array([hand.fingertip(f) for f in range(1, 6)])
                best = min(((np.linalg.norm(tips - d, axis=1), h) for h, d in drawn.items() if h not in seen),
                           key=lambda e: e[0].mean(), default=None)
                if best is not None and best[0].mean() < MATCH_PX:
                    seen.add(best[1])
                    errors.extend(best[0].tolist())
            both += seen == set(drawn)
    tracker.close()
    return {"frames": len(times), "both": both / max(len(times), 1),
            "tip_px": float(np.median(errors)) if errors else float("nan"), "ms": statistics.median(times),
            "mean": statistics.fmean(times), "view": tracker.view.describe() if tracker.view else "whole frame"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--no-scenes", action="store_true", help="skip the rendered scenes")
    parser.add_argument("--only-view", action="store_true", help="only the frame, auto and keys modes")
    parser.add_argument("--complexity", type=int, nargs="*", default=[0, 1], choices=(0, 1))
    parser.add_argument("--why", action="store_true", help="say for each cover frame why its missed hands were missed")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    modes = ["frame", "auto", "auto2", "keys"] if args.only_view else list(MODES)
    print("annotated real frames (static mode); maps: frames calibration maps, view: frames the view is used on, "
          "no map: hands missed on frames without a key map; one player: frames with at most two annotated hands, "
          "four hands: two players (or one performance shown in two insets), collage: picture-in-picture insets")
    print(f"{'complexity':>10} {'mode':>6} {'hands':>6} {'found':>6} {'rate':>7} {'side ok':>8} {'extra':>6} "
          f"{'maps':>5} {'view':>5} {'no map':>6} " + " ".join(f"{name:>15}" for name in GROUPS) + f" {'cpu ms':>9}")
    for complexity in args.complexity:
        for mode in modes:
            r = annotated_frames(args.data, complexity, mode, args.why)
            groups = " ".join(f"{f'{f}/{n} {f / max(n, 1):.1%}':>15}" for f, n in r["groups"].values())
            print(f"{complexity:>10} {mode:>6} {r['hands']:>6} {r['found']:>6} {r['found'] / r['hands']:>7.1%} "
                  f"{r['side_ok'] / max(r['found'], 1):>8.1%} {r['extra']:>6} {r['keymaps']:>5} {r['mapped']:>5} "
                  f"{r['unmapped']:>6} {groups} {r['ms']:>9.1f}", flush=True)
    print("\nreal clips (video/tracking mode)")
    print(f"{'clip':44} {'complexity':>10} {'mode':>6} {'frames':>7} {'with hand':>10} {'cpu ms':>9} {'mean':>6}  view")
    for path in sorted((args.data / "real" / "clips").glob("*.mp4")):
        keymap = clip_keymap(path)
        for complexity in args.complexity:
            for mode in modes:
                r = clip(path, complexity, mode, keymap)
                print(f"{path.name:44} {complexity:>10} {mode:>6} {r['frames']:>7} "
                      f"{r['with_hand'] / max(r['frames'], 1):>10.1%} {r['ms']:>9.1f} {r['mean']:>6.1f}  {r['view']}",
                      flush=True)
    if args.no_scenes:
        return
    from pianocam.scene import SceneSpec

    print("\nrendered scenes (10 s, video mode, key map from the first frame; both: frames with both drawn "
          "hands found, tip: median fingertip error of found hands; cpu ms: median, mean: with the 2-to-4-hand census)")
    print(f"{'scene':26} {'complexity':>10} {'mode':>6} {'frames':>7} {'both':>7} {'tip px':>7} {'cpu ms':>9} {'mean':>6}"
          "  view")
    for name, extra in SCENES.items():
        spec = SceneSpec(seconds=10.0, **extra)
        for complexity in args.complexity:
            for mode in modes:
                r = scene(spec, complexity, mode)
                print(f"{name:26} {complexity:>10} {mode:>6} {r['frames']:>7} {r['both']:>7.1%} {r['tip_px']:>7.1f} "
                      f"{r['ms']:>9.1f} {r['mean']:>6.1f}  {r['view']}", flush=True)


if __name__ == "__main__":
    main()

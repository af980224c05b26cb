"""`pianocam calibrate`: locate every key in one top-down frame and write keymap.json."""
from __future__ import annotations

import argparse
import json
import logging
import sys

logger = logging.getLogger(__name__)

KEY_COUNTS = (88, 76, 61, 49)


def add_arguments(p: argparse.ArgumentParser) -> None:
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--image", metavar="FRAME", help="a still image of the keyboard seen from above")
    src.add_argument("--source", metavar="SOURCE",
                     help="a video file, stream URL or camera (/dev/video0, or a number): its first frame")
    p.add_argument("--out", required=True, metavar="KEYMAP.json", help="where to write the key map")
    p.add_argument("--keys", type=int, choices=KEY_COUNTS, help="key count (default: inferred from the ends)")
    p.add_argument("--lowest", metavar="NOTE", help="the keyboard's lowest key, e.g. A0, E1, C2 "
                                                   "(default: the standard one for --keys)")
    p.add_argument("--first-c", metavar="NOTE", help="name of the leftmost C in view (e.g. C3): numbers the "
                                                    "keys when neither end of the keyboard is in view")
    p.add_argument("--corners", metavar="X1,Y1,...,X4,Y4",
                   help="manual fallback: the key area's corners back-left, back-right, front-right, "
                        "front-left (back = fallboard side); needs --keys")
    p.add_argument("--overlay", metavar="OUT.png", help="also write the frame with every key outlined")
    p.add_argument("--skip", type=int, default=0, metavar="N", help="with --source: skip N frames first")


def _read_frame(args):
    import cv2

    if args.image:
        image = cv2.imread(args.image, cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot read an image from {args.image}")
        return image
    from pianocam.sources import SourceError
    from pianocam.sources.video import V4L2Source, VideoFileSource

    uri = args.source
    if uri.isdigit():
        uri = f"/dev/video{uri}"
    try:
        source = (V4L2Source(uri, 1280, 720, 30.0) if uri.startswith("/dev/video")
                  else VideoFileSource(uri, realtime=False))
        with source:
            frame = None
            for _ in range(args.skip + 1):
                frame = source.read(timeout=5.0)
                if frame is None:
                    break
    except SourceError as err:
        raise ValueError(str(err)) from err
    if frame is None:
        raise ValueError(f"{args.source} gave no frame")
    return frame.image


def run(args) -> int:
    import cv2

    from pianocam.calibration.detect import detect_keymap
    from pianocam.calibration.keymap import parse_note
    from pianocam.calibration.manual import keymap_from_corners, parse_corners
    from pianocam.calibration.overlay import draw_overlay

    try:
        lowest = parse_note(args.lowest) if args.lowest else None
        first_c = parse_note(args.first_c) if args.first_c else None
        image = _read_frame(args)
        size = (image.shape[1], image.shape[0])
        if args.corners:
            if args.keys is None:
                raise ValueError("--corners needs --keys (and --lowest unless the keyboard is a standard one)")
            keymap = keymap_from_corners(parse_corners(args.corners), size, args.keys, lowest)
        else:
            keymap = detect_keymap(image, keys=args.keys, lowest=lowest, first_c=first_c)
    except ValueError as err:
        print(f"pianocam calibrate: {err}", file=sys.stderr)
        return 2
    keymap.save(args.out)
    if args.overlay and not cv2.imwrite(args.overlay, draw_overlay(image, keymap)):
        print(f"pianocam calibrate: cannot write {args.overlay}", file=sys.stderr)
        return 2
    keys = keymap.keys
    print(json.dumps({"keymap": args.out, "keys": len(keys), "lowest_in_view": keys[0].name,
                      "highest_in_view": keys[-1].name, "partial": keymap.partial, "notes": keymap.notes,
                      "white_key_width_px": round(keymap.white_key_width_px, 1)}))
    return 0

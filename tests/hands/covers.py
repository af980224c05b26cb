"""The real cover frames for the hand tests: one frame with its annotated boxes, and which boxes found hands hold."""
import sys
from pathlib import Path

import cv2
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from real_hands import boxes, keymap_for  # noqa: E402, F401  (the benchmark's VOC reader and key maps, for the tests)


def cover_frame(shared_data: Path, name: str):
    """A cover frame (BGR) and its annotated (side, box) list; skips where the frame is not in ../shared."""
    path = shared_data / "real" / "hands" / name
    if not path.exists():
        pytest.skip(f"cover frame {name} not in {path.parent}")
    return cv2.imread(str(path)), boxes(path.with_suffix(".xml"))


def boxes_hit(hands, expected) -> tuple[set[int], int]:
    """Annotated boxes holding a found hand's landmark centroid, and how many of those on the annotated side."""
    hit, sided = set(), 0
    for hand in hands.hands:
        cx, cy = hand.landmarks[:, :2].mean(axis=0)
        box = next((i for i, (_, (x0, y0, x1, y1)) in enumerate(expected)
                    if x0 <= cx <= x1 and y0 <= cy <= y1 and i not in hit), None)
        if box is not None:
            hit.add(box)
            sided += hand.side == expected[box][0]
    return hit, sided

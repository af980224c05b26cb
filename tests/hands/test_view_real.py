"""The keyboard-sized view on real cover frames: hands the whole frame misses, found through the view."""
import numpy as np

from pianocam.calibration.live import calibrate_frame
from pianocam.config import CalibrationConfig
from pianocam.hands.tracker import HandTracker
from tests.hands.covers import cover_frame

# Whole 88-key keyboards at 1920x1080 (hands 9-14 % of the width) that today's calibration maps.
MINUET = "Minuet_in_G_Major_-_Bach__Petzold_-icZob9-1MDw.webm_2476.jpg"
VIVALDI = "Vivaldi_-_Winter__The_Four_Seasons_-6El8B8hJ4Sg.mkv_3608.jpg"


def _frame(shared_data, name):
    image, expected = cover_frame(shared_data, name)
    keymap, error = calibrate_frame(image, CalibrationConfig())   # strict: the unit's own calibration, no fallback
    assert keymap is not None, error
    return image, keymap, expected


def _in_boxes(hands, expected) -> set[int]:
    """Annotated boxes holding a found hand's landmark centroid, on the annotated side."""
    hit = set()
    for hand in hands.hands:
        cx, cy = hand.landmarks[:, :2].mean(axis=0)
        hit |= {i for i, (side, (x0, y0, x1, y1)) in enumerate(expected)
                if x0 <= cx <= x1 and y0 <= cy <= y1 and side == hand.side}
    return hit


def test_on_a_real_cover_frame_the_view_finds_both_hands_the_whole_frame_misses(shared_data):
    image, keymap, expected = _frame(shared_data, MINUET)
    assert len(expected) == 2
    with HandTracker(model_complexity=0, static=True, view="frame") as whole:
        assert len(_in_boxes(whole.process(image), expected)) < 2   # measured: neither hand
    with HandTracker(model_complexity=0, static=True) as tracker:   # view = auto, the default
        tracker.follow(keymap)
        assert tracker.view is not None
        hands = tracker.process(image)
    assert _in_boxes(hands, expected) == {0, 1}
    assert len(hands.hands) == 2


def test_in_video_a_hand_the_mosaic_misses_is_found_within_one_round_of_tiles_and_kept(shared_data):
    # A still camera on a cover frame, fed as video: the mosaic alone finds only the left hand; the search
    # looks at one of its 5 tiles a frame, and the tile that found the right hand keeps tracking it.
    image, keymap, expected = _frame(shared_data, VIVALDI)
    with HandTracker(model_complexity=0) as tracker:
        tracker.follow(keymap)
        found = [len(_in_boxes(tracker.process(image, index), expected)) for index in range(16)]
    assert 2 in found[:6], found
    assert np.mean(np.array(found[6:]) == 2) >= 0.9, found

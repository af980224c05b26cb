"""The keyboard-sized view: geometry of the crop and mosaic, and real MediaPipe through it on rendered hands."""
import numpy as np
import pytest

from pianocam.hands.tracker import HandTracker
from pianocam.hands.view import GAP, census_tiles, crowd_tiles, hand_share, keyboard_view
from pianocam.scene import Scene, SceneSpec
from pianocam.scene.keymap import truth_keymap


def _scene(**spec):
    scene = Scene(SceneSpec(seconds=2.0, **spec))
    image, _ = scene.frame(0)
    return scene, truth_keymap(scene.truth())


def test_hands_large_in_the_frame_keep_it_small_ones_get_the_view():
    # The rendered 88-key view shows hands at 16 % of the width: MediaPipe finds them in the whole frame.
    _, keymap = _scene(keys=88, seed=8)
    assert 0.15 <= hand_share(keymap, (960, 540)) <= 0.18
    assert keyboard_view(keymap).whole_frame
    # The same keyboard filmed at twice the size (a 1920x1080 camera) shows them at 8 %: the view is used.
    assert not keyboard_view(keymap, (1920, 1080)).whole_frame


def test_a_whole_88_key_keyboard_is_cropped_and_stacked_near_square():
    scene, keymap = _scene(keys=88, seed=8)
    view = keyboard_view(keymap, always=True)
    assert not view.whole_frame and view.pieces >= 2
    w, h = view.mosaic_size
    assert max(w / h, h / w) < 1.6      # near square: MediaPipe's letterbox wastes little
    # Every key lies inside the crop, with room for the hands in front of it.
    corners = np.concatenate([k.polygon for k in keymap.keys])
    assert corners[:, 0].min() >= view.x0 - 1 and corners[:, 0].max() <= view.x0 + view.width + 1
    assert corners[:, 1].min() >= view.y0 - 1 and corners[:, 1].max() <= view.y0 + view.height + 1


def test_landmarks_on_the_mosaic_come_back_to_the_frame_pixel_they_were_taken_from():
    scene, keymap = _scene(keys=88, seed=8)
    view = keyboard_view(keymap, always=True)
    image, _ = scene.frame(0)
    mosaic = view.mosaic(image)
    assert mosaic.shape[1::-1] == view.mosaic_size
    w, h = view.mosaic_size
    rng = np.random.default_rng(0)
    for piece in range(view.pieces):
        # A point well inside piece `piece` of the mosaic, as MediaPipe would report it (fractions).
        px, py = rng.uniform(0.2 * w, 0.8 * w), piece * (view.height + GAP) + rng.uniform(5, view.height - 5)
        landmarks = np.tile([[px / w, py / h, 0.1]], (21, 1)).astype(np.float32)
        frame_xy, cut = view.to_frame(landmarks)
        fx, fy = frame_xy[0, 0] * image.shape[1], frame_xy[0, 1] * image.shape[0]
        assert np.array_equal(image[int(fy), int(fx)], mosaic[int(py), int(px)])
        assert not cut
        assert frame_xy[0, 2] == pytest.approx(0.1 * w / image.shape[1])


@pytest.mark.parametrize("spec", [dict(keys=88, seed=8), dict(keys=61, seed=7), dict(keys=61, seed=7, distance=0.6)])
def test_pieces_overlap_by_more_than_a_hand_and_stay_inside_the_frame(spec):
    # A hand seen from above spans about 6 white keys whatever the zoom: it lies whole in some piece.
    _, keymap = _scene(**spec)
    view = keyboard_view(keymap, always=True)
    if view.pieces > 1:
        overlap = view.piece_width - view.step
        assert overlap >= 6 * keymap.white_key_width_px or overlap >= view.width / 2 - 1
    assert view.x0 >= 0 and view.x0 + (view.pieces - 1) * view.step + view.piece_width <= 960
    assert view.y0 >= 0 and view.y0 + view.height <= 540


def test_search_tiles_are_squares_as_tall_as_the_crop_that_cover_it_overlapping_by_more_than_a_hand():
    scene, keymap = _scene(keys=88, seed=8)
    view = keyboard_view(keymap, always=True)
    side = view.height
    assert len(view.search) >= 3
    assert view.search[0] == view.x0 and view.search[-1] + side == view.x0 + view.width
    overlaps = [a + side - b for a, b in zip(view.search, view.search[1:])]
    assert min(overlaps) >= 6.5 * keymap.white_key_width_px
    image, _ = scene.frame(0)
    rng = np.random.default_rng(1)
    for index in range(len(view.search)):
        tile = view.tile(image, index)
        assert tile.shape[:2] == (side, side)
        tx, ty = rng.uniform(5, side - 5, size=2)
        landmarks = np.tile([[tx / side, ty / side, 0.1]], (21, 1)).astype(np.float32)
        frame_xy, cut = view.tile_to_frame(index, landmarks)
        fx, fy = frame_xy[0, 0] * image.shape[1], frame_xy[0, 1] * image.shape[0]
        assert np.array_equal(image[int(fy), int(fx)], tile[int(ty), int(tx)]) and not cut
    # A hand at a tile's inner side may be the part of one the next tile holds whole.
    edge = np.tile([[0.995, 0.5, 0.0]], (21, 1)).astype(np.float32)
    assert view.tile_to_frame(0, edge)[1] and not view.tile_to_frame(len(view.search) - 1, edge)[1]


def test_hands_that_fill_the_crop_get_no_search_tiles():
    # The close-up's hands (over a third of its height) would be cut by tiles no larger than the mosaic's.
    _, keymap = _scene(keys=61, seed=7, distance=0.6)
    assert keyboard_view(keymap, always=True).search == ()


def test_mediapipe_through_the_view_finds_the_drawn_hands_where_they_are():
    # Real MediaPipe on a whole 88-key render: through the view both hands are found and their
    # fingertips land on the drawn ones (benchmarks/real_hands.py measures it over 10 s).
    scene, keymap = _scene(keys=88, seed=8)
    both, errors = 0, []
    with HandTracker(model_complexity=0, view="keys") as tracker:
        tracker.follow(keymap)
        assert tracker.view is not None and tracker.view.pieces >= 2
        for index in range(0, 60, 2):
            image, truth = scene.frame(index)
            hands = tracker.process(image, index)
            assert len({h.side for h in hands.hands}) == len(hands.hands) <= 2
            for hand in hands.hands:
                drawn = truth["hands"].get(hand.side)
                if drawn:
                    tips = np.array([drawn["fingertips"][str(f)] for f in range(1, 6)])
                    errors.append(np.linalg.norm(hand.landmarks[[4, 8, 12, 16, 20], :2] - tips, axis=1).mean())
            both += len(hands.hands) == 2
    assert both >= 24     # 108/120 frames over 4 s (the whole frame: 120/120; the left hand is half out of view)
    assert np.median(errors) < 15


def test_without_a_key_map_or_with_view_frame_the_tracker_sees_the_whole_frame():
    _, keymap = _scene(keys=88, seed=8)
    with HandTracker(model_complexity=0, view="frame") as tracker:
        tracker.follow(keymap)
        assert tracker.view is None
    with HandTracker(model_complexity=0) as tracker:
        tracker.follow(None)
        assert tracker.view is None
        tracker.follow(keymap)          # auto: hands at 16 % of this frame are large enough whole
        assert tracker.view is None
    with pytest.raises(ValueError, match="view"):
        HandTracker(view="crop")


@pytest.mark.parametrize("size", [(1920, 1080), (854, 480), (960, 540)])
def test_census_tiles_are_as_tall_as_the_frame_cover_its_width_and_overlap_by_a_third(size):
    fw, fh = size
    tiles = census_tiles(size)
    assert len(tiles) == 3 and tiles[0] == 0 and tiles[-1] + fh == fw
    assert all(b - a <= fh * 2 / 3 for a, b in zip(tiles, tiles[1:]))   # overlap at least a third of a tile


def test_a_near_square_frame_takes_its_census_whole():
    assert census_tiles((640, 480)) == ()


@pytest.mark.parametrize("size", [(1920, 1080), (854, 480), (640, 480)])
def test_a_crowded_still_images_closer_look_covers_it_with_squares_half_its_height_overlapping_by_a_third(size):
    fw, fh = size
    tiles = crowd_tiles(size)
    side = round(fh / 2)
    assert {s for _, _, s in tiles} == {side}
    xs, ys = sorted({x for x, _, _ in tiles}), sorted({y for _, y, _ in tiles})
    assert len(tiles) == len(xs) * len(ys) and ys == [0, round((fh - side) / 2), fh - side]
    assert xs[0] == 0 and xs[-1] + side == fw
    assert all(b - a <= side * 2 / 3 + 1 for a, b in zip(xs, xs[1:]))   # overlap at least a third of a square

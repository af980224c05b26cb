"""tracker.max_hands = auto on real frames with four hands: all four found, where a cap of two found two."""
from pianocam.hands.tracker import CENSUS_FRAMES, HandTracker
from tests.hands.covers import boxes_hit, cover_frame, keymap_for

# Two players at two keyboards, one above the other, filmed from above: the unit maps one keyboard, and the
# other player's hands lie beyond its keyboard-sized view.
DRAGONS = "Once_There_Were_Dragons_-_How_To_Train_Your_Dragon_3__Piano_Cover__feat_PandaTooth-v8etUycd7jc.webm_4761.jpg"
# One player, a whole 88-key keyboard: the census must find no third hand there.
MINUET = "Minuet_in_G_Major_-_Bach__Petzold_-icZob9-1MDw.webm_2476.jpg"


def _frame(shared_data, name):
    image, expected = cover_frame(shared_data, name)
    keymap, error = keymap_for(image)
    assert keymap is not None, error
    return image, keymap, expected


def test_a_still_frame_with_four_hands_gets_all_four_where_two_were_the_cap(shared_data):
    image, keymap, expected = _frame(shared_data, DRAGONS)
    assert len(expected) == 4
    with HandTracker(model_complexity=0, static=True, max_hands=2) as two:
        two.follow(keymap)
        assert len(boxes_hit(two.process(image), expected)[0]) == 2   # measured: the mapped keyboard's player
    with HandTracker(model_complexity=0, static=True) as tracker:   # max_hands = auto, the default
        tracker.follow(keymap)
        hands = tracker.process(image)
    hit, sided = boxes_hit(hands, expected)
    assert hit == {0, 1, 2, 3} and len(hands.hands) == 4
    assert sided >= 3   # MediaPipe's labels; measured 4 of 4


def test_in_video_the_census_raises_the_cap_at_its_first_look_and_keeps_four(shared_data):
    image, keymap, expected = _frame(shared_data, DRAGONS)
    with HandTracker(model_complexity=0) as tracker:
        tracker.follow(keymap)
        found = [len(boxes_hit(tracker.process(image, i, i / 30), expected)[0]) for i in range(2 * CENSUS_FRAMES)]
        assert tracker.max_hands == 4
    assert max(found[:CENSUS_FRAMES - 1]) == 2, found   # the view's player only, until the first census
    assert min(found[CENSUS_FRAMES:]) == 4, found


def test_one_player_in_video_keeps_two_hands_and_the_view(shared_data):
    image, keymap, expected = _frame(shared_data, MINUET)
    with HandTracker(model_complexity=0) as tracker:
        tracker.follow(keymap)
        found = [len(boxes_hit(tracker.process(image, i, i / 30), expected)[0]) for i in range(2 * CENSUS_FRAMES + 1)]
        assert tracker.max_hands == 2 and tracker.view is not None
    assert min(found[CENSUS_FRAMES:]) == 2, found

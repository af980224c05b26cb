"""Automatic calibration on rendered frames (exact truth) and on a real keyboard photo."""
from __future__ import annotations

import numpy as np
import pytest

from pianocam.calibration.detect import detect_keymap
from pianocam.calibration.errors import NumberingUnknown
from tests.calibration.conftest import truth_error


def test_whole_61_key_keyboard_numbered_from_its_ends(flat61):
    scene, image = flat61
    keymap = detect_keymap(image)
    assert not keymap.partial and keymap.keyboard_keys == 61
    assert keymap.midis == list(range(36, 97))
    assert np.all(truth_error(keymap, scene) <= 0.25)


def test_keys_option_that_contradicts_the_view_is_an_error(flat61):
    with pytest.raises(NumberingUnknown, match="has 61 keys.*--keys says 88"):
        detect_keymap(flat61[1], keys=88)


def test_tilted_88_keys_without_ends_asks_for_an_anchor(tilted88):
    with pytest.raises(NumberingUnknown, match="neither end.*--first-c"):
        detect_keymap(tilted88[1])
    with pytest.raises(NumberingUnknown, match="neither end"):
        detect_keymap(tilted88[1], keys=88, lowest=21)


def test_tilted_88_keys_with_first_c_is_a_partial_map_within_a_quarter_key(tilted88):
    scene, image = tilted88
    first_c = min(k["midi"] for k in scene.keys if k["visible"] and k["midi"] % 12 == 0)
    keymap = detect_keymap(image, first_c=first_c)
    assert keymap.partial and any("left end" in n for n in keymap.notes)
    errors = truth_error(keymap, scene)
    assert np.mean(errors <= 0.25) >= 0.98
    # A wrong first C is caught, not mapped: D is not a C.
    with pytest.raises(NumberingUnknown, match="must name a C"):
        detect_keymap(image, first_c=first_c + 2)


def test_real_keyboard_photo_pitch_classes_match_its_annotation(lamb):
    # iacv-lamb.params.json: the view starts on an A and holds 54 keys (to a D).
    keymap = detect_keymap(lamb, first_c=48)
    assert keymap.partial
    assert len(keymap.keys) == 54
    assert keymap.keys[0].name == "A2" and keymap.keys[-1].name == "D7"
    widths = [k.polygon[1][0] - k.polygon[0][0] for k in keymap.keys if not k.black]
    assert 55 < np.median(widths) < 65  # 1920 px over 32 white keys


def test_flat_fit_is_kept_only_where_it_fits_as_well_as_the_homography():
    from pianocam.calibration.detect import _fit_with_inliers

    rng = np.random.default_rng(3)
    plane = np.column_stack([rng.uniform(0, 1200, 80), rng.choice([0.0, 100.0, 150.0], 80)])
    square_on = np.array([[1.5, 0.02, 40.0], [0.01, 1.6, 500.0], [0.0, 0.0, 1.0]])
    leaning = np.array([[1.5, 0.02, 40.0], [0.01, 1.6, 500.0], [4e-4, 0.0, 1.0]])
    for h_true, flat_expected in ((square_on, True), (leaning, False)):
        q = np.column_stack([plane, np.ones(len(plane))]) @ h_true.T
        image = q[:, :2] / q[:, 2:3] + rng.normal(0, 0.7, (len(plane), 2))
        h, _, _ = _fit_with_inliers(plane.tolist(), image.tolist(), 3.0, flat=True)
        assert (abs(h[2, 0]) < 1e-12 and abs(h[2, 1]) < 1e-12) == flat_expected

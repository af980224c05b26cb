"""The technique featuriser on real seed-000 landmarks and a real clip: invariances, layout, the frame path."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from pianocam.technique.features import (
    FEATURISERS,
    canonical_window,
    channel_statistics,
    frame_flow_features,
    harris_corners,
    landmark_flow_features,
    orientation_angle,
    standardise,
)


def _windows(shared_data, n=12):
    import csv
    with open(shared_data / "seed000-landmarks" / "kps_beg_holdout.csv", newline="") as f:
        rows = list(csv.reader(f))[1:]
    points = np.array([[float(v) for v in r[:63]] for r in rows[: n * 20]]).reshape(n, 20, 21, 3)
    return points


def _moved(window, angle, scale, shift, mirror=False):
    # What another camera would see: rotated, scaled, shifted, maybe mirrored; z scales with x and y.
    c, s = np.cos(angle), np.sin(angle)
    out = window.copy()
    if mirror:
        out[..., 0] = -out[..., 0]
    out[..., :2] = out[..., :2] @ np.array([[c, -s], [s, c]]).T
    return out * scale + np.array([shift[0], shift[1], 0.0])


def test_canonical_window_points_the_hand_up(shared_data):
    for window in _windows(shared_data):
        canonical = canonical_window(window)
        angles = orientation_angle(canonical)
        assert abs(np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())) < 1e-9  # circular mean
        np.testing.assert_allclose(canonical[:, 0].mean(axis=0), 0, atol=1e-9)   # origin: the mean wrist
        assert np.median(np.linalg.norm(canonical[:, 9, :2] - canonical[:, 0, :2], axis=-1)) == pytest.approx(1)


@pytest.mark.parametrize("name", sorted(FEATURISERS))
def test_features_do_not_depend_on_the_camera(shared_data, name):
    fn = FEATURISERS[name].window
    for window in _windows(shared_data, 4):
        reference = fn(window)
        assert reference.shape == FEATURISERS[name].shape
        for angle, scale, shift, mirror in ((2.0, 640.0, (300, 200), False), (-0.7, 0.5, (0.1, 0.3), True)):
            np.testing.assert_allclose(fn(_moved(window, angle, scale, shift, mirror)), reference, atol=2e-4)


def test_flow_layout_keeps_the_fastest_landmarks(shared_data):
    window = _windows(shared_data, 1)[0]
    features = landmark_flow_features(window)
    assert features.shape == (5, 1, 150) and features.dtype == np.float32
    columns = features[:, 0, :].T.reshape(15, 10, 5)
    speed = np.linalg.norm(columns[..., 3:5], axis=-1)
    assert np.all(np.diff(speed, axis=1) <= 1e-6)           # top-k in order of flow magnitude
    canonical = canonical_window(window)
    all_speeds = np.sort(np.linalg.norm(canonical[5:, :, :2] - canonical[:-5, :, :2], axis=-1), axis=1)[:, ::-1]
    np.testing.assert_allclose(speed, all_speeds[:, :10], atol=1e-5)


def test_standardise_uses_stored_statistics(shared_data):
    batch = np.stack([landmark_flow_features(w) for w in _windows(shared_data)])
    mean, std = channel_statistics(batch)
    z = standardise(batch, mean, std)
    np.testing.assert_allclose(z.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 2, 3)), 1, atol=1e-3)
    assert not np.allclose(standardise(batch[:1], mean * 0, std * 0 + 1), z[:1])


def test_degenerate_hand_is_refused():
    with pytest.raises(ValueError):
        canonical_window(np.zeros((20, 21, 3)))


def test_harris_finds_the_corners_of_a_square():
    image = np.zeros((80, 80), np.uint8)
    image[20:60, 20:60] = 255
    corners = harris_corners(image)
    for corner in ((20, 20), (59, 20), (20, 59), (59, 59)):
        assert np.min(np.linalg.norm(corners - np.array(corner), axis=1)) < 3


def test_frame_path_tracks_a_moving_pattern():
    rng = np.random.default_rng(0)
    texture = np.full((200, 260), 90, np.uint8)
    for x, y, w, h, grey in zip(*(rng.integers(lo, hi, 60) for lo, hi in ((0, 250), (0, 190), (4, 12), (4, 12),
                                                                           (140, 255)))):
        cv2.rectangle(texture, (int(x), int(y)), (int(x + w), int(y + h)), int(grey), -1)
    texture = cv2.GaussianBlur(texture, (3, 3), 0)
    frames = [texture[20:180, 20 + 2 * i:220 + 2 * i].copy() for i in range(20)]  # the scene moves 2 px left a frame
    features = frame_flow_features(frames)
    assert features.shape == (5, 1, 150)
    tracked = features[3] != 0
    assert tracked.mean() > 0.9
    # u is in image widths: 5 frames × −2 px / 200 px.
    assert np.median(features[3][tracked]) == pytest.approx(-10 / 200, abs=0.01)


def test_frame_path_on_a_real_clip(shared_data):
    capture = cv2.VideoCapture(str(shared_data / "real" / "clips" / "esnylmz-ode-to-joy-right-hand.mp4"))
    frames = []
    while len(frames) < 20:
        ok, frame = capture.read()
        assert ok
        frames.append(cv2.resize(frame, (212, 120)))
    features = frame_flow_features(frames)
    assert features.shape == (5, 1, 150)
    assert np.count_nonzero(features[2]) > 100  # grey levels of tracked corners
    assert np.all(np.abs(features[3:]) < 0.5)   # no corner jumps half a frame in 5 frames

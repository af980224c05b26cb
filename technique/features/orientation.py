"""Hand orientation normalisation: every window of one hand in one canonical, camera-independent frame."""
from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

WRIST, INDEX_MCP, MIDDLE_MCP, PINKY_MCP = 0, 5, 9, 17


def orientation_angle(landmarks: np.ndarray) -> np.ndarray:
    """Angle (radians) from the image's up direction (-y) to the wrist→middle-MCP vector; (..., 21, ≥2) → (...)."""
    v = landmarks[..., MIDDLE_MCP, :2] - landmarks[..., WRIST, :2]
    return np.arctan2(v[..., 0], -v[..., 1])


def is_mirrored(landmarks: np.ndarray) -> bool:
    """Whether the hand shows the thumb on the right when its fingers point up (a left hand from above).

    Decided from geometry, not from handedness labels: MediaPipe's labels flip with the camera's
    view (see hands/tracker.py) and the seed-000 CSVs carry MediaPipe's raw label.
    """
    a = landmarks[..., INDEX_MCP, :2] - landmarks[..., WRIST, :2]
    b = landmarks[..., PINKY_MCP, :2] - landmarks[..., WRIST, :2]
    cross = a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]
    # Image y points down, so the sign is the opposite of the textbook one; majority over the window.
    return bool(np.median(cross) < 0)


def canonical_window(window: np.ndarray, mirror: bool = True) -> np.ndarray:
    """(T, 21, 3) landmarks → the same hand mirrored to thumb-left, rotated fingers-up, in hand-size units.

    One rotation per window (the circular mean of the per-frame angles, the paper's wrist→middle-MCP
    alignment) rather than one per frame, so that a turning wrist stays visible as motion and the
    angle estimate's frame-to-frame jitter is not injected into every landmark.
    The origin is the window's mean wrist and the unit the median wrist→middle-MCP length, so pixels
    (the unit) and 0..1 MediaPipe coordinates (the seed-000 CSVs) give the same numbers.
    """
    points = np.asarray(window, dtype=np.float64)
    if points.ndim != 3 or points.shape[1:] != (21, 3):
        raise ValueError(f"expected a (T, 21, 3) landmark window, got {points.shape}")
    points = points.copy()
    if mirror and is_mirrored(points):
        points[..., 0] = -points[..., 0]
    angles = orientation_angle(points)
    angle = np.arctan2(np.sin(angles).mean(), np.cos(angles).mean())
    c, s = np.cos(angle), np.sin(angle)
    rotation = np.array([[c, s], [-s, c]])  # turns the mean wrist→MCP vector onto -y
    origin = points[:, WRIST, :].mean(axis=0)
    points -= origin
    points[..., :2] = points[..., :2] @ rotation.T
    size = np.median(np.linalg.norm(window[:, MIDDLE_MCP, :2] - window[:, WRIST, :2], axis=-1))
    if not np.isfinite(size) or size <= 0:
        raise ValueError("degenerate hand: wrist and middle MCP coincide")
    return points / size

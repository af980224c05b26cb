"""Barrel distortion of wide camera lenses: one radial coefficient, estimated from the black keys."""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import distort_points, undistort_points

K1_RANGE = np.linspace(-0.3, 0.3, 61)
GAIN = 0.7          # undistort only when it cuts the black keys' misfit by this much


def fit_error(plane: np.ndarray, image: np.ndarray, tol: float = 4.0) -> float:
    """Truncated mean square image distance (px²) between the key points and one homography fitted to them.

    Truncated at `tol` px: a fingertip over a key moves a point far, and must not outvote the rest.
    """
    h, _ = cv2.findHomography(np.float32(plane), np.float32(image), cv2.RANSAC, tol)
    if h is None:
        return float("inf")
    q = np.column_stack([plane, np.ones(len(plane))]) @ h.T
    d2 = np.sum((q[:, :2] / q[:, 2:3] - image) ** 2, axis=1)
    return float(np.mean(np.minimum(d2, tol * tol)))


def estimate_k1(plane, image, size: tuple[int, int]) -> float:
    """The radial coefficient that lets one flat keyboard fit the key points best (0: no gain)."""
    plane = np.asarray(plane, float)
    image = np.asarray(image, float)
    if len(plane) < 12:
        return 0.0
    errors = [fit_error(plane, undistort_points(image, k, size)) for k in K1_RANGE]
    best = int(np.argmin(errors))
    base = fit_error(plane, image)
    return float(K1_RANGE[best]) if errors[best] < GAIN * base else 0.0


def undistort_image(image: np.ndarray, k1: float) -> np.ndarray:
    """The frame as a lens without distortion would have seen it."""
    h, w = image.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64))
    src = distort_points(np.column_stack([gx.ravel(), gy.ravel()]), k1, (w, h))
    mx = src[:, 0].reshape(h, w).astype(np.float32)
    my = src[:, 1].reshape(h, w).astype(np.float32)
    return cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)

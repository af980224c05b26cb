"""The seed-000 flow-feature layout (5, 1, TOP_K·STEPS) built from landmark positions and motion."""
from __future__ import annotations

import logging

import numpy as np

from pianocam.technique.features.orientation import canonical_window

logger = logging.getLogger(__name__)

WINDOW = 20          # frames per window, as in the paper
SPAN = 5             # motion is measured between frame t and t + SPAN
STEPS = WINDOW - SPAN  # 15 steps × TOP_K = 150 columns, the paper's input width
TOP_K = 10           # keypoints kept per step, by flow magnitude (the paper's k)
CHANNELS = ("x", "y", "depth", "u", "v")
FEATURE_SCHEMA = f"landmark-flow-v1/w{WINDOW}-s{SPAN}-k{TOP_K}"


def landmark_flow_features(window: np.ndarray, top_k: int = TOP_K, span: int = SPAN, mirror: bool = True) -> np.ndarray:
    """(WINDOW, 21, 3) landmarks of one hand → (5, 1, top_k·(WINDOW−span)) float32, not yet standardised.

    The paper's layout with landmarks standing in for tracked corners: per step the top-k
    landmarks by motion magnitude, each as position (x, y), depth (z, where frames give grey
    level) and flow (u, v). Motion over SPAN frames, not one, because MediaPipe's frame-to-frame
    jitter is of the order of a pianist's per-frame finger motion; it sets STEPS = 15, so the
    width stays the paper's 150.
    """
    points = canonical_window(window, mirror)
    steps = points.shape[0] - span
    if steps < 1:
        raise ValueError(f"a window of {points.shape[0]} frames is too short for span {span}")
    here, there = points[:steps], points[span:]
    flow = there[..., :2] - here[..., :2]                              # (steps, 21, 2)
    order = np.argsort(-np.linalg.norm(flow, axis=-1), axis=1, kind="stable")[:, :top_k]
    pick = lambda a: np.take_along_axis(a, order[..., None], axis=1)  # noqa: E731
    columns = np.concatenate([pick(here), pick(flow)], axis=-1)       # (steps, k, 5): x y z u v
    return columns.reshape(steps * top_k, 5).T[:, None, :].astype(np.float32)


def standardise(features: np.ndarray, mean: np.ndarray, std: np.ndarray) -> np.ndarray:
    """Z-score per channel with statistics stored at training time; (..., C, 1, W) with mean, std of length C."""
    mean = np.asarray(mean, dtype=np.float32).reshape(-1, 1, 1)
    std = np.asarray(std, dtype=np.float32).reshape(-1, 1, 1)
    return ((features - mean) / np.maximum(std, 1e-6)).astype(np.float32)


def channel_statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation over a batch (N, C, 1, W): what standardise() needs."""
    mean, std = features.mean(axis=(0, 2, 3)), features.std(axis=(0, 2, 3))
    # A channel constant by construction (the wrist's mean position is the origin) gets std 1, so
    # rounding noise on the unit is not blown up by a 1e-16 divisor.
    return mean, np.where(std < 1e-6, 1.0, std)

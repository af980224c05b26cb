"""Kinematic features of a landmark window: every landmark's canonical position and velocity per frame."""
from __future__ import annotations

import logging

import numpy as np

from pianocam.technique.features.orientation import canonical_window

logger = logging.getLogger(__name__)

KINEMATIC_SCHEMA = "landmark-kinematics-v1/w20"


def kinematic_features(window: np.ndarray, mirror: bool = True) -> np.ndarray:
    """(T, 21, 3) landmarks → (126, 1, T−1) float32: x, y, z and their frame-to-frame velocity, landmark by landmark.

    Unlike the flow layout this keeps each landmark's identity (which finger moves) and
    the whole time course, which is what skeleton-based action models feed a temporal CNN.
    """
    points = canonical_window(window, mirror)
    velocity = np.diff(points, axis=0)                                # (T−1, 21, 3)
    channels = np.concatenate([points[1:], velocity], axis=-1)        # (T−1, 21, 6)
    return channels.reshape(len(channels), -1).T[:, None, :].astype(np.float32)


MOTION_STATS_SCHEMA = "landmark-motion-stats-v1/w20"


def motion_statistics(window: np.ndarray, mirror: bool = True) -> np.ndarray:
    """(T, 21, 3) landmarks → (189, 1, 1) float32: per landmark its mean pose, range of motion and speed.

    A window summarised in numbers a teacher would name: where each joint sits (finger curve,
    wrist height), how far it travels, how fast and how evenly it moves. Small enough for 200
    training windows.
    """
    points = canonical_window(window, mirror)
    speed = np.linalg.norm(np.diff(points, axis=0), axis=-1)          # (T−1, 21)
    summary = np.concatenate([points.mean(axis=0), points.std(axis=0),  # (21, 3) each
                              speed.mean(axis=0)[:, None], speed.std(axis=0)[:, None],
                              np.abs(np.diff(speed, axis=0)).mean(axis=0)[:, None]], axis=1)
    return summary.reshape(-1, 1, 1).astype(np.float32)

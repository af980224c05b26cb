"""Features for the technique model, shared by training (export/) and the unit: numpy and opencv only."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from pianocam.technique.features.flow import (
    CHANNELS,
    FEATURE_SCHEMA,
    SPAN,
    STEPS,
    TOP_K,
    WINDOW,
    channel_statistics,
    landmark_flow_features,
    standardise,
)
from pianocam.technique.features.frames import FRAME_SCHEMA, frame_flow_features, harris_corners, matched_corners
from pianocam.technique.features.kinematics import (
    KINEMATIC_SCHEMA,
    MOTION_STATS_SCHEMA,
    kinematic_features,
    motion_statistics,
)
from pianocam.technique.features.orientation import canonical_window, is_mirrored, orientation_angle


@dataclass(frozen=True)
class Featuriser:
    """One named way to turn a (WINDOW, 21, 3) landmark window into a model input (C, 1, W)."""

    name: str
    schema: str            # changes whenever the numbers it produces change; the manifest must match it
    shape: tuple[int, int, int]
    window: Callable[[np.ndarray], np.ndarray]


# The one table both training and the unit read: a manifest names its featuriser and schema.
FEATURISERS = {
    "landmark-flow": Featuriser("landmark-flow", FEATURE_SCHEMA, (5, 1, STEPS * TOP_K), landmark_flow_features),
    "landmark-kinematics": Featuriser("landmark-kinematics", KINEMATIC_SCHEMA, (126, 1, WINDOW - 1),
                                      kinematic_features),
    "landmark-motion-stats": Featuriser("landmark-motion-stats", MOTION_STATS_SCHEMA, (189, 1, 1), motion_statistics),
}

__all__ = ["CHANNELS", "FEATURE_SCHEMA", "FEATURISERS", "FRAME_SCHEMA", "Featuriser", "KINEMATIC_SCHEMA",
           "MOTION_STATS_SCHEMA", "SPAN", "STEPS", "TOP_K", "WINDOW", "canonical_window", "channel_statistics",
           "frame_flow_features", "harris_corners", "is_mirrored", "kinematic_features", "landmark_flow_features",
           "matched_corners", "motion_statistics", "orientation_angle", "standardise"]

"""A pinhole camera over the keyboard: keyboard-plane millimetres to image pixels."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from pianocam.scene.keyboard import LOWEST_MIDI, WHITE_LENGTH, absolute_x0, keyboard_width

# The camera frames the span of a 61-key keyboard (C2-C7, 846 mm) on every keyboard, so a
# hand is always ~9 % of the image width (~90 px palm at 960 px), the size MediaPipe's
# palm detector finds reliably. 76 and 88 keys: the outer octaves fall partly or wholly
# out of frame. 49 keys: the keyboard fills ~72 % of the width, with room for the hands.
FRAMED_SPAN_KEYS = 61
FRAMED_LOWEST_MIDI = 36
# Fraction of the image height above the keys' back edge (fallboard and piano body).
BACK_EDGE_AT = 0.18
# Lens-to-keys distance at distance=1.0; sets how strong tilt perspective looks.
VIEW_DISTANCE_MM = 1100.0


@dataclass(frozen=True)
class Camera:
    """Projects points (x along the keys, y towards the player, z up) to pixels."""

    rotation: np.ndarray     # 3x3, keyboard axes to camera axes
    translation: np.ndarray  # 3, camera coordinates of the keyboard origin
    intrinsics: np.ndarray   # 3x3

    @property
    def homography(self) -> np.ndarray:
        """Keyboard plane (z = 0, mm) to image pixels."""
        m = np.column_stack([self.rotation[:, 0], self.rotation[:, 1], self.translation])
        h = self.intrinsics @ m
        return h / h[2, 2]

    def project(self, points) -> np.ndarray:
        """Project Nx2 (on the keys) or Nx3 (above them) points to Nx2 pixels."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, np.shape(points)[-1])
        if p.shape[1] == 2:
            p = np.column_stack([p, np.zeros(len(p))])
        cam = p @ self.rotation.T + self.translation
        img = cam @ self.intrinsics.T
        return img[:, :2] / img[:, 2:3]

    def scale_at(self, points) -> np.ndarray:
        """Pixels per millimetre at each 3-D point (for line widths)."""
        p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
        depth = (p @ self.rotation.T + self.translation)[:, 2]
        return self.intrinsics[0, 0] / depth


# Other framings: "whole" shows the whole keyboard with some of the instrument either side,
# "edge" fills the frame with the keys from edge to edge (the outer keys cut by the frame).
VIEW_FILL = {"whole": 0.93, "edge": 1.004}


def framing(keys: int, width: int, height: int, distance: float,
            view: str = "61") -> tuple[float, float, float]:
    """Return (centre x mm, centre y mm, px per mm) for the camera's framing."""
    low = LOWEST_MIDI[keys]
    span = keyboard_width(FRAMED_SPAN_KEYS)
    if view in VIEW_FILL:
        span = keyboard_width(keys)
        scale = VIEW_FILL[view] * width / span / distance
        centre_y = min((0.5 - BACK_EDGE_AT) * height / scale, WHITE_LENGTH + 0.25 * height / scale)
        return span / 2, centre_y, scale
    if keys > FRAMED_SPAN_KEYS:
        centre_x = absolute_x0(FRAMED_LOWEST_MIDI) - absolute_x0(low) + span / 2
    else:
        centre_x = keyboard_width(keys) / 2
    scale = 0.9 * width / span / distance
    centre_y = (0.5 - BACK_EDGE_AT) * height / scale
    # At larger distances the keys sit nearer the image centre, so the hands stay in.
    centre_y = min(centre_y, WHITE_LENGTH + 0.25 * height / scale)
    return centre_x, centre_y, scale


def make_camera(keys: int, width: int, height: int, tilt: float = 0.0, rotate: float = 0.0,
                distance: float = 1.0, view: str = "61") -> Camera:
    cx, cy, scale = framing(keys, width, height, distance, view)
    depth = VIEW_DISTANCE_MM * distance
    focal = scale * depth
    # z up in a y-towards-player frame: the camera looks down -z.
    flip = np.diag([1.0, 1.0, -1.0])
    # Positive tilt moves the camera towards the player, so the back of the keys recedes.
    a = math.radians(tilt)
    pitch = np.array([[1, 0, 0], [0, math.cos(a), math.sin(a)], [0, -math.sin(a), math.cos(a)]])
    r = math.radians(rotate)
    roll = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    rotation = roll @ pitch @ flip
    translation = np.array([0.0, 0.0, depth]) - rotation @ np.array([cx, cy, 0.0])
    intrinsics = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1.0]])
    return Camera(rotation, translation, intrinsics)

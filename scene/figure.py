"""Draws a hand-shaped figure (forearm, palm, jointed fingers, nails, shadow) from its joints."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from pianocam.scene.camera import Camera

SHIFT = 4                      # sub-pixel drawing: coordinates carry 4 fractional bits
ONE = 1 << SHIFT
# Joint radii (mm) from the base of each digit to its tip. Fingers taper and the
# joints bulge a little, which MediaPipe's landmark model relies on more than colour.
DIGIT_RADII = {1: (12.5, 10.5, 9.4, 8.4), 2: (9.6, 8.9, 7.9, 7.0), 3: (9.9, 9.1, 8.1, 7.2),
               4: (9.3, 8.5, 7.6, 6.8), 5: (8.1, 7.4, 6.7, 6.0)}
FOREARM_LENGTH = 420.0
WRIST_HALF = 28.0
ELBOW_HALF = 38.0
# A light above and behind the keys throws each point's shadow towards the player.
SHADOW_SLOPE = np.array([0.25, 0.45])
SHADOW_STRENGTH = 0.45
SHADOW_DOWNSCALE = 4
RIM = 1.4              # px of darker outline around every part


@dataclass(frozen=True)
class Skin:
    base: tuple
    outline: tuple
    light: tuple
    nail: tuple


SKINS = (
    Skin((148, 178, 222), (92, 118, 168), (172, 200, 238), (184, 196, 232)),
    Skin((122, 152, 200), (72, 96, 142), (148, 178, 220), (168, 182, 220)),
    Skin((100, 132, 186), (58, 80, 124), (124, 156, 204), (150, 168, 208)),
    Skin((160, 186, 226), (104, 128, 176), (184, 206, 240), (194, 204, 236)),
)


def _fixed(p) -> np.ndarray:
    return np.round(np.asarray(p) * ONE).astype(np.int32)


def _capsule(img, p0, p1, r0, r1, colour):
    """A tapered segment with round ends."""
    d = p1 - p0
    n = np.array([-d[1], d[0]]) / (np.hypot(*d) + 1e-9)
    quad = np.array([p0 + n * r0, p1 + n * r1, p1 - n * r1, p0 - n * r0])
    cv2.fillConvexPoly(img, _fixed(quad), colour, cv2.LINE_AA, SHIFT)
    for p, r in ((p0, r0), (p1, r1)):
        cv2.circle(img, tuple(_fixed(p)), int(round(r * ONE)), colour, -1, cv2.LINE_AA, SHIFT)


def _chaikin(poly: np.ndarray, rounds: int = 2) -> np.ndarray:
    for _ in range(rounds):
        nxt = np.roll(poly, -1, axis=0)
        poly = np.stack([0.75 * poly + 0.25 * nxt, 0.25 * poly + 0.75 * nxt], axis=1).reshape(-1, 2)
    return poly


def hand_outline(landmarks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Palm and forearm outlines in keyboard mm (Nx3), built around the joints."""
    lm = landmarks
    across = lm[17, :2] - lm[5, :2]
    across /= np.linalg.norm(across)
    forward = lm[9, :2] - lm[0, :2]
    forward /= np.linalg.norm(forward)

    def at(i, a, f, dz=0.0):
        xy = lm[i, :2] + a * across + f * forward
        return [xy[0], xy[1], lm[i, 2] + dz]

    palm = np.array([at(5, -8, 5), at(9, 0, 9), at(13, 0, 8), at(17, 7, 4), at(17, 11, -30),
                     at(0, 30, 6), at(0, -25, 6), at(1, -11, -6), at(5, -12, -24)])
    wrist = lm[0].copy()
    wrist[:2] += forward * 12.0
    elbow = np.array([*(wrist[:2] - forward * FOREARM_LENGTH), wrist[2] + 40])
    forearm = np.array([[*(wrist[:2] + across * WRIST_HALF), wrist[2]],
                        [*(elbow[:2] + across * ELBOW_HALF), elbow[2]],
                        [*(elbow[:2] - across * ELBOW_HALF), elbow[2]],
                        [*(wrist[:2] - across * WRIST_HALF), wrist[2]]])
    return palm, forearm


def _digits(lm_px, scale):
    """Per digit: joint pixels and joint radii in pixels."""
    out = {}
    for digit in range(1, 6):
        idx = [1, 2, 3, 4] if digit == 1 else [1 + 4 * (digit - 1) + j for j in range(4)]
        out[digit] = (lm_px[idx], np.array(DIGIT_RADII[digit]) * scale[idx])
    return out


def _draw_silhouette(img, camera, landmarks, palm, forearm, value, lift=None):
    """Fill the whole hand shape in one colour (for the shadow mask)."""
    def proj(p):
        p = np.asarray(p, dtype=np.float64)
        if lift is not None:
            p = np.column_stack([p[:, :2] + p[:, 2:3] * lift, np.zeros(len(p))])
        return camera.project(p)
    scale = camera.scale_at(landmarks)
    cv2.fillPoly(img, [_fixed(proj(forearm))], value, cv2.LINE_AA, SHIFT)
    cv2.fillPoly(img, [_fixed(_chaikin(proj(palm)))], value, cv2.LINE_AA, SHIFT)
    for pts, radii in _digits(proj(landmarks), scale).values():
        for j in range(3):
            _capsule(img, pts[j], pts[j + 1], radii[j], radii[j + 1], value)


def hand_bounds(points_px: np.ndarray, shape, margin: int = 24):
    h, w = shape[:2]
    x0, y0 = np.floor(points_px.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points_px.max(axis=0)).astype(int) + margin
    return max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)


def draw_hand(img: np.ndarray, camera: Camera, landmarks: np.ndarray, skin: Skin) -> None:
    """Draw one hand in place; `landmarks` are the 21 joints in keyboard mm."""
    palm, forearm = hand_outline(landmarks)
    lm_px = camera.project(landmarks)
    scale = camera.scale_at(landmarks)
    palm_px = _chaikin(camera.project(palm))
    forearm_px = camera.project(forearm)
    shadow_px = camera.project(np.column_stack([landmarks[:, :2] + landmarks[:, 2:3] * SHADOW_SLOPE,
                                                np.zeros(len(landmarks))]))
    x0, y0, x1, y1 = hand_bounds(np.vstack([lm_px, palm_px, shadow_px, forearm_px]), img.shape, margin=40)
    if x1 <= x0 or y1 <= y0:
        return
    # Soft shadow on the keys first, so the hand itself stays unshaded. It is drawn
    # and blurred at quarter resolution: a soft shadow needs no detail, and a
    # full-size blur of this reach would cost most of the frame's time budget.
    q = SHADOW_DOWNSCALE
    mask = np.zeros(((y1 - y0 + q - 1) // q, (x1 - x0 + q - 1) // q), np.uint8)
    offset = np.array([x0, y0], dtype=np.float64)

    class _Shrunk:
        def project(self, p):
            return (camera.project(p) - offset) / q

        def scale_at(self, p):
            return camera.scale_at(p) / q

    _draw_silhouette(mask, _Shrunk(), landmarks, palm, forearm, 255, lift=SHADOW_SLOPE)
    sigma = max(0.5, 6.0 * float(scale.mean()) / q)
    mask = cv2.GaussianBlur(mask, (0, 0), sigma)
    mask = cv2.resize(mask, (mask.shape[1] * q, mask.shape[0] * q), interpolation=cv2.INTER_LINEAR)
    mask = mask[: y1 - y0, : x1 - x0]
    roi = img[y0:y1, x0:x1]
    shade = cv2.addWeighted(mask, -SHADOW_STRENGTH, mask, 0, 255)
    roi[:] = cv2.multiply(roi, cv2.merge([shade, shade, shade]), scale=1 / 255)

    digits = _digits(lm_px, scale)
    # Mid-tone between rim and skin: each digit is shaded like a lit cylinder (dark
    # rim, skin, lit ridge). Measured: shading, nails and joint creases each raise
    # MediaPipe's detection rate; flat fills and knuckle dots lower it.
    mid = tuple((a + b) // 2 for a, b in zip(skin.outline, skin.base))

    def digit(d, colour, grow=0.0, shrink=1.0):
        pts, radii = digits[d]
        for j in range(3):
            _capsule(img, pts[j], pts[j + 1], radii[j] * shrink + grow, radii[j + 1] * shrink + grow, colour)

    def shaded_digit(d):
        digit(d, skin.outline, grow=RIM)
        digit(d, mid)
        digit(d, skin.base, shrink=0.7)
        digit(d, skin.light, shrink=0.38)

    wrist_px, elbow_px = (forearm_px[0] + forearm_px[3]) / 2, (forearm_px[1] + forearm_px[2]) / 2
    r_wrist = np.hypot(*(forearm_px[0] - forearm_px[3])) / 2
    r_elbow = np.hypot(*(forearm_px[1] - forearm_px[2])) / 2
    _capsule(img, wrist_px, elbow_px, r_wrist + RIM, r_elbow + RIM, skin.outline)
    _capsule(img, wrist_px, elbow_px, r_wrist, r_elbow, skin.base)
    cv2.fillPoly(img, [_fixed(palm_px)], skin.outline, cv2.LINE_AA, SHIFT)
    cv2.fillPoly(img, [_fixed(_shrink(palm_px, RIM))], skin.base, cv2.LINE_AA, SHIFT)
    # The thumb lies over the palm's edge; drawn on top it stays visible even while it
    # passes under the hand, which measured better than hiding it.
    digit(1, skin.outline, grow=RIM)
    digit(1, skin.base)
    digit(1, skin.light, shrink=0.38)
    for d in (5, 4, 3, 2):
        shaded_digit(d)
    # Knuckle heads catch the light on the back of the hand.
    for d in (2, 3, 4, 5):
        pts, radii = digits[d]
        cv2.circle(img, tuple(_fixed(pts[0])), int(round(radii[0] * 0.6 * ONE)), skin.light, -1,
                   cv2.LINE_AA, SHIFT)
    for d in (1, 2, 3, 4, 5):
        pts, radii = digits[d]
        direction = pts[3] - pts[2]
        direction = direction / (np.hypot(*direction) + 1e-9)
        r = radii[3]
        angle = float(np.degrees(np.arctan2(direction[1], direction[0])))
        axes = (int(round(r * 0.9 * ONE)), int(round(r * 0.72 * ONE)))
        cv2.ellipse(img, tuple(_fixed(pts[3] - direction * r * 0.25)), axes, angle, 0, 360, skin.nail,
                    -1, cv2.LINE_AA, SHIFT)
        if d == 1:
            continue
        # Creases across the two finger joints.
        for j in (1, 2):
            along = pts[j + 1] - pts[j - 1]
            along = along / (np.hypot(*along) + 1e-9)
            across = np.array([-along[1], along[0]]) * radii[j] * 0.6
            cv2.line(img, tuple(_fixed(pts[j] - across)), tuple(_fixed(pts[j] + across)), skin.outline, 1,
                     cv2.LINE_AA, SHIFT)
    roi = img[y0:y1, x0:x1]
    roi[:] = cv2.GaussianBlur(roi, (3, 3), 0.8)


def _shrink(poly: np.ndarray, px: float) -> np.ndarray:
    """Pull a convex-ish outline inwards by about `px` pixels."""
    centre = poly.mean(axis=0)
    d = poly - centre
    n = np.hypot(d[:, 0], d[:, 1])[:, None] + 1e-9
    return centre + d * np.maximum(n - px, 0) / n

"""A hand-held camera's motion: each frame registered to the frame its key map was made on.

Both real clips here were filmed hand-held. Across the keys, against the frame its key map was made on, the
partial-keyboard clip's keys move by up to 1.2 white keys (its G3 by 0.7 at the labelled onsets from frame 138
on, so that the thumb on G3 lies over F3 of the frame-0 map), the close-up's by up to 0.4. A key map is true
for its own frame only; moving each frame's landmarks into that frame (hands.steady) carries it along.
The registration: OpenCV's ECC (findTransformECC) on the blurred grey key band with the hands masked out
(they move across the keys; the keys move only with the camera), each frame started from the last answer.
"""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_WIDTH, KeyMap, apply_homography

# ECC stops after this many iterations or when the warp changes by less than this.
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-5)
# Below this correlation a frame's registration is not trusted (measured: 0.978-1.0 on both real clips).
MIN_CORRELATION = 0.9
# Registered at this width (px) at most: a quarter of the work at 960 px, under a pixel of error at full size.
WORK_WIDTH = 480


class CameraMotion:
    """Frame by frame: the homography from the reference frame's image to this frame's, and ECC's correlation.

    Only the key bed and the band around it count, less the hands (their landmarks' hulls, widened): on a
    rendered scene's still camera the hands' own motion read as 1.2 keys of camera motion with a skin-colour
    mask, 0.06 with this one. An affine warp (a hand-held phone pans, turns and zooms; the tilt barely
    changes over a take): 37 ms a frame on the real partial clip against 47 for a homography, same answer.
    """

    def __init__(self, reference: np.ndarray, keymap: KeyMap, hands: list[np.ndarray] = ()):
        self.scale = min(1.0, WORK_WIDTH / reference.shape[1])
        self._to_full = np.diag([1 / self.scale, 1 / self.scale, 1.0])
        centres = np.array([k.center for k in keymap.keys]) * self.scale
        self._band = (centres.min(axis=0), centres.max(axis=0))
        self._template, self._mask = self._pixels(reference, hands)
        self._warp = np.eye(2, 3, dtype=np.float32)

    def _pixels(self, image: np.ndarray, hands) -> tuple[np.ndarray, np.ndarray]:
        """Blurred grey image (0..1) at the working size, and the mask of the keys' band less the hands."""
        small = cv2.resize(image, None, fx=self.scale, fy=self.scale, interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255, (5, 5), 0)
        mask = np.zeros(grey.shape, np.uint8)
        (x0, y0), (x1, y1) = self._band
        reach = 0.25 * grey.shape[0]
        cv2.rectangle(mask, (int(max(0, x0 - 20)), int(max(0, y0 - reach))), (int(x1 + 20), int(y1 + reach)), 1, -1)
        for points in hands:
            cv2.fillConvexPoly(mask, cv2.convexHull((np.asarray(points)[:, :2] * self.scale).astype(np.int32)), 0)
        return grey, cv2.erode(mask, np.ones((15, 15), np.uint8))

    def update(self, image: np.ndarray, hands: list[np.ndarray] = ()) -> tuple[np.ndarray, float]:
        grey, mask = self._pixels(image, hands)
        try:
            correlation, found = cv2.findTransformECC(self._template, grey, self._warp.copy(), cv2.MOTION_AFFINE,
                                                      ECC_CRITERIA, self._mask & mask, 5)
        except cv2.error:   # did not converge: keep the last frame's warp
            correlation, found = 0.0, self._warp
        if correlation >= MIN_CORRELATION:
            self._warp = found
        warp = np.vstack([self._warp.astype(np.float64), [0.0, 0.0, 1.0]])
        return self._to_full @ warp @ np.linalg.inv(self._to_full), float(correlation)


def camera_motion(images, keymap: KeyMap, hands: list, reference: int = 0) -> tuple[list[np.ndarray], list[float]]:
    """Per frame, the homography from the reference frame's image to that frame's, and ECC's correlation;
    `hands`: per frame, the hands' landmark arrays."""
    images = list(images)
    motion = CameraMotion(images[reference], keymap, hands[reference])
    homographies, correlations = [], []
    for image, seen in zip(images, hands):
        h, correlation = motion.update(image, seen)
        homographies.append(h)
        correlations.append(correlation)
    return homographies, correlations


def largest_shift(keymap: KeyMap, homographies: list[np.ndarray]) -> float:
    """How far across the keys (white-key widths) the camera moved a key in view, at worst over the clip:
    where the key map, left in place, would put a fingertip that sits on that key's centre."""
    width, height = keymap.image_size
    centres = np.array([k.center for k in keymap.keys
                        if 0 <= k.center[0] < width and 0 <= k.center[1] < height])
    worst = 0.0
    for h in homographies:
        across = keymap.to_plane(apply_homography(h, centres))[:, 0] - keymap.to_plane(centres)[:, 0]
        worst = max(worst, float(np.abs(across).max()))
    return worst / WHITE_KEY_WIDTH

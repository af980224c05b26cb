"""Each key's brightness in the black-key band, steadied against a hand-held camera's drift.

A key going down changes how its strip between and beside the black keys catches the light (the
key's top tilts, the neighbouring black key's side shows); seen from the player's side that band
stays in view while the hand hides the key fronts (the real Ode to Joy close-up: its labeller saw
each pressed key's edges move there, ~2 frames before the sound). The camera may drift by tens of
pixels over a clip (21 px on that close-up), more than a key's strip is wide, so each frame is
sampled where the camera's motion (calibration.motion, given per frame) puts the keys, or, without it,
registered to the first on that band (ECC, translation only): the partial clip's presses were seen a
key or two off that way (F1 0.20 against 0.35 with the camera's motion).
"""
from __future__ import annotations

import cv2
import numpy as np

from pianocam.calibration.keymap import KeyMap, apply_homography, key_span
from pianocam.hands.tracker import Hands
from pianocam.notes.vision import distance_to_bones

BAND_MARGIN = 8.0       # mm kept clear of the key's ends in the band (the fallboard's shadow, the black fronts)
MIN_SAMPLES = 3
ECC_SCALE = 0.5         # registration on a half-size band: drift is tens of pixels, sub-pixel is not needed
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-4)


def band_points(keymap: KeyMap, midi: int) -> np.ndarray:
    """Sample points (keyboard plane, mm) across a key's width in the black-key band."""
    x0, x1 = key_span(midi)
    xs = np.linspace(x0 + 3.0, x1 - 3.0, 5)
    ys = np.linspace(BAND_MARGIN, keymap.black_key_length - BAND_MARGIN, 8)
    return np.array([(x, y) for x in xs for y in ys])


class KeyBandLevels:
    """Per frame, the level of each mapped key's band points, the frame first registered to the first
    frame seen on the band's rows. `cover` (mm): leave out points this close to a finger's bones; off
    by default, since on the real close-up the fingertip moving over its key is itself the signal
    (F1 0.79 -> 0.50 at 20 mm; rendered seeds 101-102 0.28 -> 0.84: README)."""

    def __init__(self, keymap: KeyMap, cover: float = 0.0):
        self.keymap = keymap
        width, height = keymap.image_size
        self.midis, points, plane = [], [], []
        self.cover = cover
        for midi in keymap.midis:
            image = keymap.to_image(band_points(keymap, midi))
            if np.all((image[:, 0] >= 0) & (image[:, 0] < width - 1) & (image[:, 1] >= 0) & (image[:, 1] < height - 1)):
                self.midis.append(midi)
                points.append(image)
                plane.append(band_points(keymap, midi))
        self._points = np.array(points, np.float32)           # (keys, samples, 2) image px
        rows = self._points[..., 1] if points else np.zeros((1, 1))
        self._rows = (max(0, int(rows.min()) - 30), min(height, int(rows.max()) + 30))
        self._plane = np.vstack(plane) if plane else np.zeros((0, 2))
        self._first: np.ndarray | None = None
        self._reference: np.ndarray | None = None
        self._warp = np.eye(2, 3, dtype=np.float32)

    def _band(self, image: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        band = grey[self._rows[0]:self._rows[1]].astype(np.float32)
        return grey.astype(np.float32), cv2.resize(band, None, fx=ECC_SCALE, fy=ECC_SCALE, interpolation=cv2.INTER_AREA)

    def update(self, image: np.ndarray, hands: Hands | None = None, homography: np.ndarray | None = None) -> np.ndarray:
        """The keys' levels in this frame, in the order of `midis`: each sample against its own first
        level, the median over the samples no finger covers (NaN where fewer than MIN_SAMPLES are clear).
        `homography`: the camera's motion from the key map's frame to this one (calibration.motion), where
        known; else the band's own drift (translation) from the first frame."""
        if homography is None:
            grey, band = self._band(image)
            if self._reference is None:
                self._reference = band
            else:
                try:
                    _, self._warp = cv2.findTransformECC(self._reference, band, self._warp, cv2.MOTION_TRANSLATION,
                                                         ECC_CRITERIA, None, 5)
                except cv2.error:
                    pass  # no convergence (a hand sweeping over the band): keep the last drift
        else:
            grey = (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image).astype(np.float32)
        if not len(self._points):
            return np.zeros(0)
        if homography is None:
            flat = (self._points + self._warp[:, 2] / ECC_SCALE).reshape(-1, 2)
        else:
            flat = apply_homography(homography, self._points.reshape(-1, 2)).astype(np.float32)
        levels = cv2.remap(grey, flat[:, 0:1].copy(), flat[:, 1:2].copy(), cv2.INTER_LINEAR)
        levels = levels.reshape(self._points.shape[:2])
        if self._first is None:
            self._first = np.maximum(levels, 1.0)
        ratio = levels / self._first * 100.0   # grey levels of a 100-bright sample
        if hands is None or not hands.hands or self.cover <= 0:
            return ratio.mean(axis=1)
        covered = np.zeros(self._plane.shape[0], bool)
        for hand in hands.hands:
            covered |= distance_to_bones(self._plane, self.keymap.to_plane(hand.landmarks[:, :2])) < self.cover
        covered = covered.reshape(ratio.shape)
        clear = np.where(covered, np.nan, ratio)
        enough = (~covered).sum(axis=1) >= MIN_SAMPLES
        with np.errstate(all="ignore"):
            return np.where(enough, np.nanmedian(clear, axis=1), np.nan)

    @property
    def drift(self) -> np.ndarray:
        """The last frame's shift (image px) from the first."""
        return self._warp[:, 2] / ECC_SCALE

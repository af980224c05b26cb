"""Where a hand-held camera moved the keyboard: each frame registered to the frame a key map was made on.

Both real clips were filmed hand-held. Across the keys, against the frame its key map was made on, the
partial-keyboard clip's keys in view move by up to 1.2 white keys (its G3 by 0.7 at the labelled onsets from
frame 138 on, so that the thumb on G3 lies over F3 in the frame-0 map), the close-up's by up to 0.4.
A key map is true for its own frame only; the real fingering benchmark carries it along by moving every
frame's landmarks into that frame's image (`in_reference`), as a steady camera would have seen them.
The registration: OpenCV's ECC (findTransformECC, a homography, since the keyboard is a plane) on the
blurred grey image with skin masked out (the hand moves across the keys; the keys move only with the
camera), each frame started from the last frame's answer.
"""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from pianocam.calibration.keymap import WHITE_KEY_WIDTH, KeyMap, apply_homography
from pianocam.hands.tracker import Hand, Hands

# ECC stops after this many iterations or when the warp changes by less than this.
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 200, 1e-6)
# Below this correlation a frame's registration is not trusted (measured: 0.978-1.0 on both real clips).
MIN_CORRELATION = 0.9


def keyboard_pixels(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blurred grey image (0..1) and the mask of what is not skin (eroded, so a hand's edge stays out)."""
    grey = cv2.GaussianBlur(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float32) / 255, (5, 5), 0)
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    skin = ((hsv[..., 0] < 25) | (hsv[..., 0] > 160)) & (hsv[..., 1] > 40) & (hsv[..., 2] > 60)
    return grey, cv2.erode((~skin).astype(np.uint8), np.ones((9, 9), np.uint8))


# Registered at this width (px) at most: a quarter of the work at 960 px, under a pixel of error at full size.
WORK_WIDTH = 480


def camera_motion(images, reference: int = 0) -> tuple[list[np.ndarray], list[float]]:
    """Per frame, the homography from the reference frame's image to that frame's, and ECC's correlation."""
    images = list(images)
    scale = min(1.0, WORK_WIDTH / images[reference].shape[1])
    small = lambda image: cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)  # noqa: E731
    to_full = np.diag([1 / scale, 1 / scale, 1.0])
    template, template_mask = keyboard_pixels(small(images[reference]))
    warp = np.eye(3, dtype=np.float32)
    homographies, correlations = [], []
    for image in images:
        grey, mask = keyboard_pixels(small(image))
        try:
            correlation, found = cv2.findTransformECC(template, grey, warp.copy(), cv2.MOTION_HOMOGRAPHY,
                                                      ECC_CRITERIA, template_mask, 5)
        except cv2.error:   # did not converge: keep the last frame's warp
            correlation, found = 0.0, warp
        if correlation >= MIN_CORRELATION:
            warp = found
        homographies.append(to_full @ warp.astype(np.float64) @ np.linalg.inv(to_full))
        correlations.append(float(correlation))
    return homographies, correlations


def cached_motion(clip: Path, cache: Path, reference: int = 0) -> tuple[list[np.ndarray], list[float]]:
    if cache.exists():
        data = json.loads(cache.read_text())
        if data["reference"] == reference:
            return [np.array(h) for h in data["homographies"]], data["correlations"]
    capture = cv2.VideoCapture(str(clip))
    images = []
    while True:
        ok, image = capture.read()
        if not ok:
            break
        images.append(image)
    homographies, correlations = camera_motion(images, reference)
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps({"reference": reference, "homographies": [h.tolist() for h in homographies],
                                 "correlations": correlations}))
    return homographies, correlations


def in_reference(frames: list[Hands], homographies: list[np.ndarray]) -> list[Hands]:
    """Each frame's hands with their landmarks (x, y) moved into the reference frame's image."""
    out = []
    for hands, h in zip(frames, homographies):
        back = np.linalg.inv(h)
        moved = []
        for hand in hands.hands:
            landmarks = hand.landmarks.copy()
            landmarks[:, :2] = apply_homography(back, landmarks[:, :2])
            moved.append(Hand(hand.side, hand.score, landmarks, hand.normalized))
        out.append(Hands(hands.frame_index, hands.t, hands.width, hands.height, moved))
    return out


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

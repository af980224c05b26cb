"""The paper's flow features from frames: Harris corners, SIFT + ratio-test matching, pyramidal Lucas–Kanade."""
from __future__ import annotations

import logging

import cv2
import numpy as np

from pianocam.technique.features.flow import SPAN, TOP_K
from pianocam.technique.features.orientation import MIDDLE_MCP, WRIST, is_mirrored, orientation_angle

logger = logging.getLogger(__name__)

FRAME_SCHEMA = f"frame-flow-v1/s{SPAN}-k{TOP_K}"
RATIO = 0.85            # Lowe's ratio test, the paper's constant
LK_WINDOW = (10, 10)    # the paper's 10×10 Lucas–Kanade patch


def harris_corners(gray: np.ndarray, threshold: float = 0.01) -> np.ndarray:
    """(N, 2) float32 corner centroids: Sobel 3×3, 2×2 window, 3×3 dilation, response > threshold·max."""
    response = cv2.cornerHarris(np.float32(gray), blockSize=2, ksize=3, k=0.04)
    response = cv2.dilate(response, np.ones((3, 3), np.uint8))
    mask = np.uint8(response > threshold * response.max()) if response.max() > 0 else np.zeros_like(gray, np.uint8)
    count, _, _, centroids = cv2.connectedComponentsWithStats(mask)
    return centroids[1:count].astype(np.float32)  # label 0 is the background


def matched_corners(gray_a: np.ndarray, gray_b: np.ndarray, sift=None) -> np.ndarray:
    """Corners of frame a whose SIFT descriptor finds an unambiguous match among frame b's corners (ratio 0.85)."""
    sift = sift or cv2.SIFT_create()
    points = []
    for gray in (gray_a, gray_b):
        keypoints = [cv2.KeyPoint(float(x), float(y), 16) for x, y in harris_corners(gray)]
        points.append(sift.compute(gray, keypoints) if keypoints else ([], None))
    (kp_a, des_a), (kp_b, des_b) = points
    if des_a is None or des_b is None or len(kp_b) < 2:
        return np.empty((0, 2), np.float32)
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des_a, des_b, k=2)
    good = [m.queryIdx for m, *rest in pairs if rest and m.distance < RATIO * rest[0].distance]
    return np.array([kp_a[i].pt for i in good], np.float32).reshape(-1, 2)


def upright(image: np.ndarray, landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """The frame rotated (and mirrored for a left hand) so the hand points up; returns it and the hand size in pixels."""
    angle = float(np.degrees(orientation_angle(landmarks)))
    wrist = landmarks[WRIST, :2]
    turn = cv2.getRotationMatrix2D((float(wrist[0]), float(wrist[1])), angle, 1.0)
    out = cv2.warpAffine(image, turn, (image.shape[1], image.shape[0]), flags=cv2.INTER_LINEAR)
    if is_mirrored(landmarks):
        out = cv2.flip(out, 1)
    return out, float(np.linalg.norm(landmarks[MIDDLE_MCP, :2] - wrist))


def frame_flow_features(frames: list[np.ndarray], landmarks: np.ndarray | None = None,
                        top_k: int = TOP_K, span: int = SPAN) -> np.ndarray:
    """20 frames (grey or BGR) of one hand → (5, 1, top_k·(20−span)): x, y, grey level, u, v of the top-k corners.

    With the hand's landmarks (20, 21, 3 in pixels) each frame is first turned hand-up and
    positions and flow are in hand sizes; without them, in image widths. Steps with fewer than
    top_k tracked corners are padded with zeros.
    """
    grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) if f.ndim == 3 else f for f in frames]
    scale = float(grays[0].shape[1])
    if landmarks is not None:
        turned = [upright(g, lm) for g, lm in zip(grays, landmarks)]
        grays = [g for g, _ in turned]
        scale = float(np.median([s for _, s in turned]))
    sift = cv2.SIFT_create()
    steps = len(grays) - span
    columns = np.zeros((steps, top_k, 5), np.float32)
    for t in range(steps):
        start = matched_corners(grays[t], grays[t + span], sift)
        if not len(start):
            continue
        end, status, _ = cv2.calcOpticalFlowPyrLK(grays[t], grays[t + span], start.reshape(-1, 1, 2), None,
                                                  winSize=LK_WINDOW, maxLevel=3)
        ok = status.ravel() == 1
        start, flow = start[ok], (end.reshape(-1, 2) - start.reshape(-1, 2))[ok]
        order = np.argsort(-np.linalg.norm(flow, axis=1), kind="stable")[:top_k]
        xi = np.clip(start[order].round().astype(int), 0, [grays[t].shape[1] - 1, grays[t].shape[0] - 1])
        grey = grays[t][xi[:, 1], xi[:, 0]] / 255.0
        columns[t, :len(order)] = np.column_stack([start[order] / scale, grey, flow[order] / scale])
    return columns.reshape(steps * top_k, 5).T[:, None, :]

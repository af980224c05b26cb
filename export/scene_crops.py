"""Representative inputs for seed 003's network: 12-frame 128×128 crops around a fingertip in rendered scenes.

Real-looking crops (keys, a hand, shading) give int8 activation ranges that hold on camera frames;
uniform noise does not. The renderer's truth says where each fingertip is, so each crop follows
the hand's middle fingertip frame by frame, as the unit's cropper follows MediaPipe's.
"""
from __future__ import annotations

import logging

import numpy as np

logger = logging.getLogger(__name__)

FRAMES, SIZE, STRIDE, TIP = 12, 128, 6, "3"


def _crop(img: np.ndarray, centre, size: int = SIZE) -> np.ndarray:
    h, w = img.shape[:2]
    x = int(np.clip(round(centre[0]) - size // 2, 0, w - size))
    y = int(np.clip(round(centre[1]) - size // 2, 0, h - size))
    return img[y:y + size, x:x + size]


def normalise(crops_bgr: np.ndarray) -> np.ndarray:
    """uint8 BGR (…, H, W, 3) → float32 RGB (…, 3, H, W) as the manifest's normalisation says."""
    rgb = crops_bgr[..., ::-1].astype(np.float32) / 255.0
    return np.moveaxis((rgb - 0.5) / 0.5, -1, -3)


def fingertip_clips(count: int, seed: int) -> np.ndarray:
    """count clips (count, 12, 3, 128, 128) float32 from scenes rendered with seeds seed, seed+1, …"""
    from pianocam.scene import Scene, SceneSpec

    clips, scene_seed = [], seed
    while len(clips) < count:
        starts_needed = (count - len(clips) + 1) // 2
        seconds = (starts_needed * STRIDE + FRAMES) / 30.0 + 0.5
        scene = Scene(SceneSpec(seed=scene_seed, keys=61, seconds=min(seconds, 20.0)))
        frames = int(scene.spec.seconds * scene.spec.fps)
        tracks: dict[str, list] = {"left": [], "right": []}
        for i in range(frames):
            img, truth = scene.frame(i)
            for side, track in tracks.items():
                hand = truth["hands"].get(side)
                centre = hand["fingertips"][TIP] if hand else (track[-1][1] if track else (img.shape[1] / 2, img.shape[0] / 2))
                track.append((_crop(img, centre).copy(), centre))
        for start in range(0, frames - FRAMES + 1, STRIDE):
            for side in ("left", "right"):
                if len(clips) < count:
                    clips.append(np.stack([c for c, _ in tracks[side][start:start + FRAMES]]))
        scene_seed += 1
    logger.info("rendered %d fingertip clips from scene seeds %d..%d", len(clips), seed, scene_seed - 1)
    return normalise(np.stack(clips))

"""Synthetic representative inputs for models whose media is not here (PISA): structured, not white noise."""
from __future__ import annotations

import numpy as np


def video_clips(count: int, clips: int, seed: int, frames: int = 16, size: int = 112) -> np.ndarray:
    """(count, clips, 3, frames, size, size) in [-1, 1]: a few coloured blobs drifting over a flat background."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    out = np.empty((count, clips, 3, frames, size, size), np.float32)
    for n in range(count):
        for k in range(clips):
            background = rng.uniform(-0.6, 0.2, size=(3, 1, 1))
            centres, velocity = rng.uniform(0.2, 0.8, (4, 2)), rng.normal(0, 0.01, (4, 2))
            colours, radius = rng.uniform(-1, 1, (4, 3)), rng.uniform(0.05, 0.2, 4)
            for t in range(frames):
                img = np.broadcast_to(background, (3, size, size)).copy()
                for (cx, cy), c, r in zip(centres + t * velocity, colours, radius):
                    blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r * r))
                    img += blob[None] * (c[:, None, None] - img)
                out[n, k, :, t] = img
    return np.clip(out, -1, 1)


def mel_images(count: int, clips: int, seed: int, size: int = 224) -> np.ndarray:
    """(count, clips, 1, size, size) in [-1, 1]: harmonic stacks with decays on a quiet floor, like piano mels."""
    rng = np.random.default_rng(seed + 1)
    out = np.full((count, clips, 1, size, size), -1.0, np.float32)
    t = np.arange(size, dtype=np.float32)
    for n in range(count):
        for k in range(clips):
            img = rng.normal(-0.85, 0.05, (size, size)).astype(np.float32)
            for _ in range(rng.integers(3, 12)):
                onset, f0 = rng.integers(0, size - 10), rng.uniform(8, 60)
                level = rng.uniform(0.3, 1.0)
                decay = np.where(t >= onset, np.exp(-(t - onset) / rng.uniform(20, 120)), 0)
                for h in range(1, 8):
                    row = int(f0 * h ** 0.8)
                    if row < size:
                        img[row] = np.maximum(img[row], -1 + 2 * level * decay / h ** 0.5)
            out[n, k, 0] = np.clip(img[::-1], -1, 1)
    return out

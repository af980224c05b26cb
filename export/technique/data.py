"""The seed-000 landmark recordings as 20-frame sequences, with labels and video groups for cross-validation."""
from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

LABELS = ("beginner", "advanced")
FILES = {"beginner": "kps_beg_holdout.csv", "advanced": "kps_adv_holdout.csv"}
SEQUENCE = 20
BLOCK = 10                 # ~10 consecutive sequences come from one video (the grouping rule)
CONTINUITY = 0.05          # mean landmark jump (0..1 units) below which two sequences are one recording


@dataclass
class TechniqueData:
    sequences: np.ndarray   # (N, 20, 21, 3) landmarks as recorded (MediaPipe 0..1 coordinates)
    labels: np.ndarray      # (N,) index into LABELS
    sides: list[str]        # the CSV's hand label per sequence (MediaPipe's raw label)
    blocks: np.ndarray      # (N,) group id: one block of BLOCK consecutive sequences of one class file
    recordings: np.ndarray  # (N,) group id: blocks merged with neighbours they run on from without a cut
    starts: np.ndarray      # (N,) True where a sequence does not continue the one before it (a cut)


def read_landmarks(path: Path) -> tuple[np.ndarray, list[str]]:
    """One CSV of lm_{i}_{x,y,z} columns plus `hand` → (rows, 21, 3) and the hand labels."""
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    names = [f"lm_{i}_{c}" for i in range(21) for c in "xyz"]
    points = np.array([[float(r[n]) for n in names] for r in rows], dtype=np.float64).reshape(-1, 21, 3)
    return points, [r.get("hand", "") for r in rows]


def load_technique_data(folder: str | Path) -> TechniqueData:
    """Read both class files; a trailing partial sequence is dropped."""
    folder = Path(folder)
    seqs, labels, sides, blocks, recordings, starts = [], [], [], [], [], []
    offset = 0
    for label_index, label in enumerate(LABELS):
        path = folder / FILES[label]
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: --data must hold {', '.join(FILES.values())}")
        points, hands = read_landmarks(path)
        n = len(points) // SEQUENCE
        s = points[: n * SEQUENCE].reshape(n, SEQUENCE, 21, 3)
        jumps = np.r_[np.inf, np.linalg.norm(s[1:, 0, :, :2] - s[:-1, -1, :, :2], axis=-1).mean(axis=1)]
        cut = jumps >= CONTINUITY
        block = np.arange(n) // BLOCK
        # A recording runs on across a block boundary when there is no cut there; merging those
        # blocks keeps one continuous recording out of two folds at once.
        merged = block.copy()
        for i in range(1, n):
            if not cut[i] or block[i] == block[i - 1]:
                merged[merged == merged[i]] = merged[i - 1]
        seqs.append(s)
        labels += [label_index] * n
        sides += [max(set(h := hands[i * SEQUENCE:(i + 1) * SEQUENCE]), key=h.count) for i in range(n)]
        blocks.append(block + offset)
        recordings.append(merged + offset)
        starts.append(cut)
        offset += block.max() + 1
        logger.info("%s: %d sequences, %d blocks, %d recordings", label, n, len(set(block)), len(set(merged)))
    return TechniqueData(np.concatenate(seqs), np.array(labels), sides, np.concatenate(blocks),
                         np.concatenate(recordings), np.concatenate(starts))


def group_folds(groups: np.ndarray, labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """Assign whole groups to folds, balancing sequences of each class; returns test indices per fold."""
    rng = np.random.default_rng(seed)
    fold_counts = np.zeros((folds, len(LABELS)))
    assignment = {}
    unique = np.unique(groups)
    rng.shuffle(unique)
    # Largest groups first, each to the fold that has the fewest sequences of its class so far.
    sizes = {g: (labels[groups == g][0], int((groups == g).sum())) for g in unique}
    for g in sorted(unique, key=lambda g: -sizes[g][1]):
        label, size = sizes[g]
        fold = int(np.argmin(fold_counts[:, label] + 1e-3 * fold_counts.sum(axis=1)))
        assignment[g] = fold
        fold_counts[fold, label] += size
    fold_of = np.array([assignment[g] for g in groups])
    return [np.flatnonzero(fold_of == k) for k in range(folds)]

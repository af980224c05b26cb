"""Video-grouped cross-validation of the technique models and variants, and the final fit on all data."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from pianocam.export.technique.data import LABELS, SEQUENCE, TechniqueData, group_folds
from pianocam.export.technique.models import build_model
from pianocam.technique.features import FEATURISERS, channel_statistics, standardise

logger = logging.getLogger(__name__)

# Table 1 of seed 000 (holdout accuracy; training/validation in brackets), for the report.
PAPER_TABLE1 = {
    "mlp-raw": {"holdout": 0.539, "train_val": 0.603},
    "single-branch": {"holdout": 0.541, "train_val": 1.0},
    "two-branch": {"holdout": 0.750, "train_val": 0.987},
    "clustered": {"holdout": 0.727, "train_val": 1.0},
}


@dataclass(frozen=True)
class Variant:
    """One line of the report: a model on a featuriser, with or without augmentation."""

    name: str
    model: str                     # two-branch | single-branch | mlp | clustered
    features: str                  # a key of FEATURISERS, or "raw" (landmarks as recorded, the MLP baseline)
    augment: bool = False
    mirror: bool = True            # canonicalise left hands to right-hand geometry
    epochs: int = 60
    note: str = ""


VARIANTS = (
    Variant("mlp-raw", "mlp", "raw", note="paper's baseline: MLP on raw MediaPipe landmarks"),
    Variant("single-branch", "single-branch", "landmark-flow", note="§3.3.2 on the landmark flow layout"),
    Variant("two-branch", "two-branch", "landmark-flow", note="§3.3.1 on the landmark flow layout"),
    Variant("clustered", "clustered", "landmark-flow", note="§3.3.3: k-means (k=2), one two-branch CNN per cluster"),
    Variant("two-branch-no-mirror", "two-branch", "landmark-flow", mirror=False,
            note="left hands not mirrored onto right-hand geometry"),
    Variant("two-branch-aug", "two-branch", "landmark-flow", augment=True,
            note="+ shifted windows across contiguous sequences, landmark jitter, aspect scaling"),
    Variant("two-branch-kinematics", "two-branch", "landmark-kinematics",
            note="all 21 landmarks' canonical position + velocity per frame (19 steps)"),
    Variant("two-branch-kinematics-aug", "two-branch", "landmark-kinematics", augment=True, note="the above + augmentation"),
    Variant("mlp-kinematics", "mlp", "landmark-kinematics", note="MLP on the kinematic features"),
    Variant("mlp-motion-stats", "mlp", "landmark-motion-stats",
            note="MLP on per-landmark mean pose, range of motion and speed statistics"),
    Variant("mlp-motion-stats-aug", "mlp", "landmark-motion-stats", augment=True, note="the above + augmentation"),
)


def featurise(windows: np.ndarray, features: str, mirror: bool = True) -> np.ndarray:
    """(N, 20, 21, 3) → (N, C, 1, W) unstandardised model inputs."""
    if features == "raw":
        return windows.reshape(len(windows), 1, 1, -1).astype(np.float32)
    fn = FEATURISERS[features].window
    return np.stack([fn(w, mirror=mirror) for w in windows])


def training_windows(data: TechniqueData, index: np.ndarray, augment: bool, rng: np.random.Generator) -> tuple:
    """The training sequences, plus (augment) windows shifted across contiguous neighbours and jittered copies."""
    windows, labels = [data.sequences[index]], [data.labels[index]]
    if augment:
        chosen = set(index.tolist())
        shifted = []
        for i in index:
            j = i + 1
            if j in chosen and not data.starts[j] and data.labels[j] == data.labels[i]:
                joined = np.concatenate([data.sequences[i], data.sequences[j]])
                shifted += [(joined[s:s + SEQUENCE], data.labels[i]) for s in (5, 10, 15)]
        if shifted:
            windows.append(np.stack([w for w, _ in shifted]))
            labels.append(np.array([y for _, y in shifted]))
        base = np.concatenate(windows)
        base_labels = np.concatenate(labels)
        for _ in range(2):
            size = np.linalg.norm(base[:, :, 9, :2] - base[:, :, 0, :2], axis=-1).mean(axis=1)[:, None, None, None]
            noisy = base + rng.normal(0, 0.01, base.shape) * size       # MediaPipe-like jitter, 1 % of a hand
            noisy[..., 0] *= rng.uniform(0.85, 1.15, (len(base), 1, 1))  # another camera's aspect / tilt
            windows.append(noisy)
            labels.append(base_labels)
    return np.concatenate(windows), np.concatenate(labels)


def fit(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, seed: int) -> nn.Module:
    """Adam, cross-entropy with class weights, fixed epochs (no early stopping: nothing to peek at)."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    counts = np.bincount(y, minlength=len(LABELS)).astype(np.float32)
    loss_fn = nn.CrossEntropyLoss(weight=torch.from_numpy(counts.sum() / np.maximum(counts, 1) / len(LABELS)))
    opt = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    model.train()
    for _ in range(epochs):
        for batch in torch.randperm(len(xt), generator=gen).split(32):
            if len(batch) < 2:
                continue  # BatchNorm needs two samples
            opt.zero_grad()
            loss_fn(model(xt[batch]), yt[batch]).backward()
            opt.step()
        sched.step()
    return model.eval()


def predict(model: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return torch.softmax(model(torch.from_numpy(x)), dim=1).numpy()


def kmeans(x: np.ndarray, k: int, seed: int, iterations: int = 50) -> np.ndarray:
    """Centroids of plain k-means (k-means++ start); x is (N, D)."""
    rng = np.random.default_rng(seed)
    centroids = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d = np.min([((x - c) ** 2).sum(1) for c in centroids], axis=0)
        centroids.append(x[rng.choice(len(x), p=d / d.sum())])
    centroids = np.array(centroids)
    for _ in range(iterations):
        assign = ((x[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)
        centroids = np.array([x[assign == j].mean(0) if (assign == j).any() else centroids[j] for j in range(k)])
    return centroids


@dataclass
class FittedModel:
    """A trained variant with the statistics its inputs are standardised with."""

    variant: Variant
    mean: np.ndarray
    std: np.ndarray
    models: list = field(default_factory=list)   # one per cluster (one when not clustered)
    centroids: np.ndarray | None = None

    def probabilities(self, x_raw: np.ndarray) -> np.ndarray:
        x = self.standardise(x_raw)
        if self.centroids is None:
            return predict(self.models[0], x)
        assign = cluster_of(x, self.centroids)
        out = np.zeros((len(x), len(LABELS)), dtype=np.float32)
        for j, model in enumerate(self.models):
            if (assign == j).any():
                out[assign == j] = predict(model, x[assign == j])
        return out

    def standardise(self, x_raw: np.ndarray) -> np.ndarray:
        return standardise(x_raw, self.mean, self.std)


def cluster_of(x: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    return ((flat[:, None] - centroids[None]) ** 2).sum(-1).argmin(1)


def raw_statistics(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # The raw-landmark baseline standardises every input column; the CNNs per channel.
    if x.shape[1] == 1:
        std = x.std(axis=0).ravel()
        return x.mean(axis=0).ravel(), np.where(std < 1e-6, 1.0, std)
    return channel_statistics(x)


def train_variant(variant: Variant, data: TechniqueData, index: np.ndarray, seed: int) -> FittedModel:
    """Fit one variant on the sequences in index."""
    rng = np.random.default_rng(seed)
    windows, y = training_windows(data, index, variant.augment, rng)
    x_raw = featurise(windows, variant.features, variant.mirror)
    mean, std = raw_statistics(x_raw)
    fitted = FittedModel(variant, mean, std)
    if variant.features == "raw":  # per-column statistics, broadcast over (N, 1, 1, W)
        fitted.standardise = lambda a: ((a - mean.reshape(1, 1, 1, -1)) / std.reshape(1, 1, 1, -1)).astype(np.float32)
    x = fitted.standardise(x_raw)
    shape = x.shape[1:]
    if variant.model == "clustered":
        fitted.centroids = kmeans(x.reshape(len(x), -1), 2, seed)
        assign = cluster_of(x, fitted.centroids)
        for j in range(2):
            part = assign == j
            torch.manual_seed(seed + j)
            model = build_model("two-branch", shape)
            if part.sum() >= 4 and len(np.unique(y[part])) == 2:
                fit(model, x[part], y[part], variant.epochs, seed + j)
            else:  # a cluster of one class (or almost empty) falls back to a model of all the data
                fit(model, x, y, variant.epochs, seed + j)
            fitted.models.append(model)
    else:
        torch.manual_seed(seed)  # the initial weights too, so a seed fixes the whole run
        fitted.models.append(fit(build_model(variant.model, shape), x, y, variant.epochs, seed))
    return fitted


def metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, macro-F1 and the confusion matrix (rows: true label, columns: predicted)."""
    k = len(LABELS)
    confusion = np.zeros((k, k), dtype=int)
    np.add.at(confusion, (y_true, y_pred), 1)
    f1 = []
    for c in range(k):
        tp = confusion[c, c]
        precision = tp / max(confusion[:, c].sum(), 1)
        recall = tp / max(confusion[c].sum(), 1)
        f1.append(0.0 if tp == 0 else 2 * precision * recall / (precision + recall))
    return {"accuracy": float(np.trace(confusion) / max(confusion.sum(), 1)), "macro_f1": float(np.mean(f1)),
            "confusion": confusion.tolist()}


def cross_validate(variant: Variant, data: TechniqueData, groups: np.ndarray, folds: int, seed: int,
                   on_fold=None) -> dict:
    """Per-fold and pooled metrics of one variant; on_fold(fold, fitted, train, test) lets a caller add checks."""
    started = time.perf_counter()
    per_fold, pred, true = [], [], []
    for k, test in enumerate(group_folds(groups, data.labels, folds, seed)):
        train = np.setdiff1d(np.arange(len(data.labels)), test)
        fitted = train_variant(variant, data, train, seed + 100 * k)
        x_test = featurise(data.sequences[test], variant.features, variant.mirror)
        y_pred = fitted.probabilities(x_test).argmax(1)
        per_fold.append(metrics(data.labels[test], y_pred))
        pred.append(y_pred)
        true.append(data.labels[test])
        if on_fold:
            on_fold(k, fitted, train, test)
    accuracies = [f["accuracy"] for f in per_fold]
    pooled = metrics(np.concatenate(true), np.concatenate(pred))
    return {"accuracy_mean": float(np.mean(accuracies)), "accuracy_std": float(np.std(accuracies)),
            "macro_f1_mean": float(np.mean([f["macro_f1"] for f in per_fold])),
            "pooled": pooled, "folds": per_fold, "seconds": round(time.perf_counter() - started, 1)}

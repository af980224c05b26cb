"""Seed 000's technique classifiers in torch (§3.3.1 two-branch CNN, §3.3.2 single-branch CNN, MLP baseline)."""
from __future__ import annotations

import logging

import torch
from torch import nn

logger = logging.getLogger(__name__)


def conv_block(c_in: int, c_out: int, width: int, pool: bool = True) -> nn.Sequential:
    """Conv (1×width, same padding) → BatchNorm → ReLU → optional MaxPool (1×2), the paper's block."""
    layers = [nn.Conv2d(c_in, c_out, (1, width), padding=(0, width // 2)), nn.BatchNorm2d(c_out), nn.ReLU()]
    if pool:
        layers.append(nn.MaxPool2d((1, 2)))
    return nn.Sequential(*layers)


class TwoBranchCNN(nn.Module):
    """§3.3.1: a 1×3 (fine) and a 1×5 (broad) branch of 16 filters, concatenated to 32, fused, pooled, classified."""

    def __init__(self, channels: int = 5, classes: int = 2, filters: int = 16, dropout: float = 0.3):
        super().__init__()
        self.fine = conv_block(channels, filters, 3)
        self.broad = conv_block(channels, filters, 5)
        # The paper's third convolution: fuses the concatenated (B, 32, 1, 75) map.
        self.fuse = conv_block(2 * filters, 2 * filters, 3, pool=False)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(2 * filters, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.fuse(torch.cat([self.fine(x), self.broad(x)], dim=1)))


class SingleBranchCNN(nn.Module):
    """§3.3.2: three blocks in a row (1×3/16 fine, 1×5/32 broad, 1×3/64 high-level), pooled, classified."""

    def __init__(self, channels: int = 5, classes: int = 2, dropout: float = 0.3):
        super().__init__()
        self.body = nn.Sequential(conv_block(channels, 16, 3), conv_block(16, 32, 5), conv_block(32, 64, 3, pool=False))
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout), nn.Linear(64, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class MLP(nn.Module):
    """The paper's baseline: a multi-layer perceptron on the flattened input."""

    def __init__(self, inputs: int, classes: int = 2, hidden: int = 64, dropout: float = 0.3):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(inputs, hidden), nn.ReLU(), nn.Dropout(dropout),
                                 nn.Linear(hidden, hidden // 2), nn.ReLU(), nn.Linear(hidden // 2, classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_model(name: str, shape: tuple[int, int, int], classes: int = 2) -> nn.Module:
    """A fresh model by name for inputs of shape (C, 1, W)."""
    channels = shape[0]
    if name in ("two-branch", "clustered"):
        return TwoBranchCNN(channels, classes)
    if name == "single-branch":
        return SingleBranchCNN(channels, classes)
    if name == "mlp":
        return MLP(shape[0] * shape[1] * shape[2], classes)
    raise ValueError(f"unknown model {name!r}: two-branch, single-branch, clustered or mlp")

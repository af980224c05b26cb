"""Seed 003's finger-action network: per-frame CNN + spatial attention, 2-layer GRU + temporal self-attention, FC 96.

The paper gives two sizes (§3.2: 16/32 filters, GRU 64/32; §3.3: 24/48 filters, GRU 60/30), both
3×3 kernels with 2×2 max pooling, 12 frames of 128×128×3, and ablates the two attention modules
(§4.4: base, +SAM, +SEAM, both). What it leaves open is chosen here and named in the manifest:
- a 2×2 max-pool after each convolution (§3.3) and stride 2 in the first one, so a 12-frame clip
  costs ~40 M multiply-adds instead of ~1 G (the paper's 0.678 s on an i7 is what the 1 G costs);
- SAM is CBAM's spatial module (channel mean and max → 7×7 conv → sigmoid), then global average
  pooling makes each frame one vector;
- SEAM is one-head scaled dot-product self-attention over the GRU's 12 outputs (residual), then
  attention pooling; without it the GRU's last output is used;
- the spatial path (frame vectors averaged over time) and the temporal path are concatenated
  into FC 96 → classes, as §3.2 describes the fusion.
"""
from __future__ import annotations

import math

import torch
from torch import nn

FRAMES, SIZE = 12, 128
# Frame-level finger labels (§3.4 annotates the playing finger per frame): which finger strikes,
# or none. The paper's exact category list is not given.
LABELS = ("none", "thumb", "index", "middle", "ring", "little")
VARIANTS = {"base": (False, False), "sam": (True, False), "seam": (False, True), "both": (True, True)}
SIZES = {"small": ((16, 32), (64, 32)), "wide": ((24, 48), (60, 30))}
NORMALISATION = {"kind": "per pixel", "channel_order": "RGB", "layout": "frames × channels × height × width",
                 "formula": "(pixel / 255 - 0.5) / 0.5", "mean": [0.5, 0.5, 0.5], "std": [0.5, 0.5, 0.5]}


class SpatialAttention(nn.Module):
    """CBAM's spatial module: where in the frame to look, from the channel mean and max."""

    def __init__(self, kernel: int = 7):
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        summary = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(summary))


class TemporalSelfAttention(nn.Module):
    """One-head self-attention over time steps (residual), then attention pooling to one vector."""

    def __init__(self, dim: int):
        super().__init__()
        self.q, self.k, self.v = nn.Linear(dim, dim), nn.Linear(dim, dim), nn.Linear(dim, dim)
        self.score = nn.Linear(dim, 1)
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, h: torch.Tensor) -> torch.Tensor:   # (B, T, D) → (B, D)
        weights = torch.softmax(torch.matmul(self.q(h), self.k(h).transpose(1, 2)) * self.scale, dim=-1)
        h = h + torch.matmul(weights, self.v(h))
        pool = torch.softmax(self.score(h), dim=1)
        return (pool * h).sum(dim=1)


class FingerActionNet(nn.Module):
    """(B, 12, 3, 128, 128) float frames → (B, classes) logits."""

    def __init__(self, spatial: bool = True, temporal: bool = True, filters=(16, 32), units=(64, 32),
                 hidden: int = 96, classes: int = len(LABELS), dropout: float = 0.3, stride: int = 2):
        super().__init__()
        f1, f2 = filters
        self.conv1 = nn.Conv2d(3, f1, 3, stride=stride, padding=1)
        self.conv2 = nn.Conv2d(f1, f2, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.sam = SpatialAttention() if spatial else None
        self.gru1 = nn.GRU(f2, units[0], batch_first=True)
        self.gru2 = nn.GRU(units[0], units[1], batch_first=True)
        self.seam = TemporalSelfAttention(units[1]) if temporal else None
        self.fc1 = nn.Linear(f2 + units[1], hidden)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(hidden, classes)

    def frame_features(self, x: torch.Tensor) -> torch.Tensor:   # (N, 3, H, W) → (N, f2)
        x = self.pool(torch.relu(self.conv1(x)))
        x = self.pool(torch.relu(self.conv2(x)))
        if self.sam is not None:
            x = self.sam(x)
        return x.mean(dim=(2, 3))

    def forward(self, clip: torch.Tensor) -> torch.Tensor:
        b, t = clip.shape[0], clip.shape[1]
        frames = self.frame_features(clip.reshape(b * t, *clip.shape[2:])).reshape(b, t, -1)
        h, _ = self.gru1(frames)
        h, _ = self.gru2(h)
        temporal = self.seam(h) if self.seam is not None else h[:, -1]
        fused = torch.cat([frames.mean(dim=1), temporal], dim=1)
        return self.fc2(self.drop(torch.relu(self.fc1(fused))))

    def prune(self, ratio: float) -> "FingerActionNet":
        """Remove the weakest conv filters (L1 norm) and FC-96 units in place; returns self."""
        from pianocam.export.pruning import keep_indices, slice_conv, slice_gru_input, slice_linear

        keep1 = keep_indices(self.conv1.weight, ratio)
        self.conv1 = slice_conv(self.conv1, out_keep=keep1)
        keep2 = keep_indices(self.conv2.weight, ratio)
        self.conv2 = slice_conv(self.conv2, in_keep=keep1, out_keep=keep2)
        self.gru1 = slice_gru_input(self.gru1, keep2)
        units = self.gru2.hidden_size
        # fc1 reads [spatial (conv2 channels), temporal (GRU units)]: only the spatial part shrinks.
        fc1_in = torch.cat([keep2, torch.arange(self.fc1.in_features - units, self.fc1.in_features)])
        keep_hidden = keep_indices(self.fc1.weight, ratio)
        self.fc1 = slice_linear(self.fc1, in_keep=fc1_in, out_keep=keep_hidden)
        self.fc2 = slice_linear(self.fc2, in_keep=keep_hidden)
        return self


def describe(model: FingerActionNet) -> dict:
    return {"filters": [model.conv1.out_channels, model.conv2.out_channels],
            "gru": [model.gru1.hidden_size, model.gru2.hidden_size], "hidden": model.fc1.out_features,
            "spatial_attention": model.sam is not None, "temporal_attention": model.seam is not None,
            "first_conv_stride": model.conv1.stride[0]}


def build(variant: str = "both", size: str = "small", classes: int = len(LABELS)) -> FingerActionNet:
    spatial, temporal = VARIANTS[variant]
    filters, units = SIZES[size]
    return FingerActionNet(spatial, temporal, filters, units, classes=classes)

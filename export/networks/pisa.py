"""Seed 004's PISA skill network: a custom 3D CNN on video clips, ResNet-18 on mel images, 128-d heads, a multimodal head.

Video: clips of 16 frames at 112×112 through C64-C128-C256-C256-C256 (3×3×3 convolutions, each
followed by max pooling), averaged over the sample's clips, then a linear layer to 128. Audio: the
mel-spectrogram of each clip as a 1×224×224 image through ResNet-18 (first convolution with one
input channel), averaged over clips, then a linear layer to 128. Each branch classifies the player
level (1–10) from its 128-d features; the multimodal head concatenates both feature vectors, reduces
them to 128 and classifies, reading detached features (§4.3: no back-propagation into the
backbones). `width` scales every channel count (1.0 is the paper's network; tests use less).
"""
from __future__ import annotations

import torch
from torch import nn

CLIP_FRAMES, CLIP_SIZE, MEL_SIZE = 16, 112, 224
LEVELS = tuple(str(level) for level in range(1, 11))


def _c(channels: int, width: float) -> int:
    return max(4, int(round(channels * width)))


class Video3DCNN(nn.Module):
    """C64, MaxP, C128, MaxP, C256, MaxP, C256, MaxP, C256, MaxP; global average to one vector per clip."""

    def __init__(self, width: float = 1.0):
        super().__init__()
        channels = [_c(c, width) for c in (64, 128, 256, 256, 256)]
        self.convs = nn.ModuleList()
        self.pools = nn.ModuleList()
        c_in = 3
        for i, c in enumerate(channels):
            self.convs.append(nn.Conv3d(c_in, c, 3, padding=1))
            # C3D keeps the time axis through the first pool, then halves it with space.
            self.pools.append(nn.MaxPool3d((1, 2, 2) if i == 0 else 2, ceil_mode=True))
            c_in = c
        self.features = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (N, 3, 16, 112, 112) → (N, C)
        for conv, pool in zip(self.convs, self.pools):
            x = pool(torch.relu(conv(x)))
        return x.mean(dim=(2, 3, 4))

    def prune(self, ratio: float) -> None:
        from pianocam.export.pruning import keep_indices, slice_conv

        keep = None
        for i, conv in enumerate(self.convs):
            out_keep = keep_indices(conv.weight, ratio)
            self.convs[i] = slice_conv(conv, in_keep=keep, out_keep=out_keep)
            keep = out_keep
        self.features = len(keep)
        return keep


class BasicBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = None
        if stride != 1 or c_in != c_out:
            self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + (x if self.down is None else self.down(x)))

    def prune(self, ratio: float) -> None:
        """Only the block's inner channels: its output must keep matching the residual path."""
        from pianocam.export.pruning import keep_indices, slice_batchnorm, slice_conv

        keep = keep_indices(self.conv1.weight, ratio)
        self.conv1 = slice_conv(self.conv1, out_keep=keep)
        self.bn1 = slice_batchnorm(self.bn1, keep)
        self.conv2 = slice_conv(self.conv2, in_keep=keep)


class ResNet18(nn.Module):
    """He et al.'s ResNet-18 (2-2-2-2 basic blocks) with a one-channel stem; global average to 512."""

    def __init__(self, in_channels: int = 1, width: float = 1.0):
        super().__init__()
        widths = [_c(c, width) for c in (64, 128, 256, 512)]
        self.stem = nn.Sequential(nn.Conv2d(in_channels, widths[0], 7, 2, 3, bias=False), nn.BatchNorm2d(widths[0]),
                                  nn.ReLU(), nn.MaxPool2d(3, 2, 1))
        blocks, c_in = [], widths[0]
        for i, c in enumerate(widths):
            blocks += [BasicBlock(c_in, c, 1 if i == 0 else 2), BasicBlock(c, c)]
            c_in = c
        self.blocks = nn.Sequential(*blocks)
        self.features = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:   # (N, 1, 224, 224) → (N, 512)
        return self.blocks(self.stem(x)).mean(dim=(2, 3))

    def prune(self, ratio: float) -> None:
        for block in self.blocks:
            block.prune(ratio)


class PisaNet(nn.Module):
    """(B, K, 3, 16, 112, 112) clips and (B, K, 1, 224, 224) mel images → video, audio, multimodal logits."""

    def __init__(self, width: float = 1.0, levels: int = len(LEVELS), features: int = 128):
        super().__init__()
        self.video = Video3DCNN(width)
        self.audio = ResNet18(1, width)
        self.video_fc = nn.Linear(self.video.features, features)
        self.audio_fc = nn.Linear(self.audio.features, features)
        self.video_head = nn.Linear(features, levels)
        self.audio_head = nn.Linear(features, levels)
        self.fusion_fc = nn.Linear(2 * features, features)
        self.fusion_head = nn.Linear(features, levels)

    def forward(self, clips: torch.Tensor, mels: torch.Tensor):
        b, k = clips.shape[0], clips.shape[1]
        v = self.video_fc(self.video(clips.flatten(0, 1)).reshape(b, k, -1).mean(dim=1))
        a = self.audio_fc(self.audio(mels.flatten(0, 1)).reshape(b, k, -1).mean(dim=1))
        fused = torch.relu(self.fusion_fc(torch.cat([v.detach(), a.detach()], dim=1)))
        return self.video_head(torch.relu(v)), self.audio_head(torch.relu(a)), self.fusion_head(fused)

    def prune(self, ratio: float) -> "PisaNet":
        from pianocam.export.pruning import slice_linear

        keep = self.video.prune(ratio)
        self.video_fc = slice_linear(self.video_fc, in_keep=keep)
        self.audio.prune(ratio)
        return self


def build(width: float = 1.0) -> PisaNet:
    return PisaNet(width)

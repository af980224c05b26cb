"""Streaming polyphase resampler (windowed sinc) in numpy, so the unit needs no librosa or scipy."""
from __future__ import annotations

import logging
from math import gcd

import numpy as np

logger = logging.getLogger(__name__)


def sinc_table(up: int, down: int, zeros: int = 16, beta: float = 8.0) -> tuple[np.ndarray, int]:
    """Kaiser-windowed sinc taps, one row per output phase; returns (table up x 2*half, half)."""
    cutoff = min(1.0, up / down) * 0.95       # a little below Nyquist so the transition band aliases nothing
    half = int(np.ceil(zeros / cutoff))
    offsets = np.arange(-half + 1, half + 1)  # input samples around floor(position)
    phases = np.arange(up)[:, None] / up      # fractional input position of each output phase
    t = offsets[None, :] - phases
    window = np.i0(beta * np.sqrt(np.clip(1 - (t / half) ** 2, 0, 1))) / np.i0(beta)
    taps = cutoff * np.sinc(cutoff * t) * window
    taps /= taps.sum(axis=1, keepdims=True)   # unit gain at DC for every phase
    return taps.astype(np.float32), half


class Resampler:
    """Feed blocks at rate_in, get blocks at rate_out; output sample n sits at input time n * rate_in / rate_out."""

    def __init__(self, rate_in: int, rate_out: int):
        g = gcd(int(rate_in), int(rate_out))
        self.up, self.down = int(rate_out) // g, int(rate_in) // g
        self.passthrough = self.up == self.down
        if not self.passthrough:
            self.taps, self.half = sinc_table(self.up, self.down)
            # Samples before the stream start are silence, so the first outputs need no special case.
            self._buf = np.zeros(self.half, np.float32)
            self._buf_start = -self.half  # input index of _buf[0]
        self._next = 0                    # index of the next output sample

    def feed(self, block: np.ndarray, final: bool = False) -> np.ndarray:
        block = np.asarray(block, np.float32)
        if self.passthrough:
            return block
        self._buf = np.concatenate([self._buf, block])
        if final:  # silence after the end lets the last real samples come out
            self._buf = np.concatenate([self._buf, np.zeros(self.half, np.float32)])
        available = self._buf_start + len(self._buf)  # input samples known (indices < available)
        # Output n needs inputs up to floor(n*down/up) + half.
        last = ((available - self.half) * self.up - 1) // self.down
        n = np.arange(self._next, last + 1)
        if len(n) == 0:
            return np.zeros(0, np.float32)
        base = n * self.down // self.up
        phase = n * self.down % self.up
        index = base[:, None] - self._buf_start + np.arange(-self.half + 1, self.half + 1)[None, :]
        out = np.einsum("ij,ij->i", self._buf[index], self.taps[phase])
        self._next = int(n[-1]) + 1
        keep_from = self._next * self.down // self.up - self.half + 1 - self._buf_start
        self._buf = self._buf[max(0, keep_from):]
        self._buf_start += max(0, keep_from)
        return out.astype(np.float32)

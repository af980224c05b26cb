"""Per-stage latency and frame-rate bookkeeping for the metrics topic and benchmarks."""
from __future__ import annotations

import collections
import time
from pathlib import Path

import numpy as np


class StageTimer:
    """Recent latencies per stage (a bounded window), summarised as p50/p95 in milliseconds."""

    def __init__(self, window: int = 300):
        self._samples: dict[str, collections.deque] = collections.defaultdict(lambda: collections.deque(maxlen=window))
        self._frames: collections.deque = collections.deque(maxlen=window)

    def record(self, stage: str, seconds: float) -> None:
        self._samples[stage].append(seconds * 1000.0)

    def frame_done(self, when: float | None = None) -> None:
        self._frames.append(time.monotonic() if when is None else when)

    def samples(self, stage: str) -> list[float]:
        """The recorded latencies of one stage in milliseconds, oldest first."""
        return list(self._samples.get(stage, ()))

    def fps(self) -> float:
        if len(self._frames) < 2 or self._frames[-1] == self._frames[0]:
            return 0.0
        return (len(self._frames) - 1) / (self._frames[-1] - self._frames[0])

    def latency(self) -> dict[str, dict[str, float]]:
        return {stage: {"p50": float(np.percentile(s, 50)), "p95": float(np.percentile(s, 95))}
                for stage, s in self._samples.items() if s}


def cpu_temperature() -> float | None:
    """The SoC temperature in °C where the kernel exposes it (Pi, Jetson), else None."""
    for zone in sorted(Path("/sys/class/thermal").glob("thermal_zone*/temp")):
        try:
            return int(zone.read_text().strip()) / 1000.0
        except (OSError, ValueError):
            continue
    return None

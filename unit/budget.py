"""The frame budget: how many frames a second are tracked, lowered while the SoC is hot."""
from __future__ import annotations

import logging
from typing import Callable

from pianocam.sources.pacing import FramePacer
from pianocam.unit.metrics import cpu_temperature

logger = logging.getLogger(__name__)


class FrameBudget:
    """Frames beyond max_fps (0: no limit) are read and skipped, notes still go out. When the SoC is at
    hot_temperature or above (a Pi 4 throttles its clock at 80 °C) the budget drops to hot_fps until it
    has cooled 5 °C below."""

    def __init__(self, max_fps: float = 0.0, hot_temperature: float = 80.0, hot_fps: float = 10.0,
                 temperature: Callable[[], float | None] = cpu_temperature):
        self.max_fps, self.hot_temperature, self.hot_fps = max_fps, hot_temperature, hot_fps
        self.temperature = temperature  # the SoC's reading in °C, None where there is no sensor
        self.throttled = False
        self._pacer = FramePacer(0.0)
        self._temperature_due = 0.0

    @classmethod
    def from_config(cls, tracker_config) -> "FrameBudget":
        t = tracker_config
        return cls(t.max_fps, t.hot_temperature, t.hot_fps)

    @property
    def limit(self) -> float:
        """The frames a second the budget allows now (0: no limit), as metrics report it."""
        return self.hot_fps if self.throttled else self.max_fps

    def keep(self, now: float) -> bool:
        """Track the frame read at `now` (time.monotonic()), or skip it as over the budget."""
        fps = self._fps(now)
        return not fps or self._pacer.keep(now)

    def _fps(self, now: float) -> float:
        if now >= self._temperature_due:
            self._temperature_due = now + 1.0
            temperature = self.temperature()
            hot = temperature is not None and (temperature >= self.hot_temperature or
                                               (self.throttled and temperature > self.hot_temperature - 5.0))
            if hot != self.throttled:
                self.throttled = hot
                logger.warning("SoC at %.0f °C: tracking %s", temperature,
                               f"at most {self.hot_fps:g} frames a second" if hot else "at the full rate again")
        fps = self.hot_fps if self.throttled else self.max_fps
        if self.throttled and self.max_fps:
            fps = min(fps, self.max_fps)
        if fps != self._pacer.fps:
            self._pacer = FramePacer(fps)
        return fps

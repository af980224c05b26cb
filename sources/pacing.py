"""Frame pacing: which frames a board that manages N frames a second processes."""
from __future__ import annotations


class FramePacer:
    """keep(t) is True for the first frame at or after each 1/fps step: a board needing 1/fps s a frame
    takes the newest frame each time it is done. fps <= 0 keeps every frame."""

    def __init__(self, fps: float):
        self.fps = fps
        self._due = float("-inf")

    def keep(self, t: float) -> bool:
        if self.fps <= 0:
            return True
        if t + 1e-6 < self._due:
            return False
        # The next frame is due one interval after this one was due (not after t): the rate holds on average
        # even when the camera's frame times fall between the steps.
        self._due = max(self._due + 1.0 / self.fps, t + 0.5 / self.fps)
        return True

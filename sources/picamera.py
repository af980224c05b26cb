"""Frames from a Raspberry Pi camera through picamera2 (optional: needs libcamera from the OS)."""
from __future__ import annotations

import numpy as np

from pianocam.sources.base import FrameSource, SourceError


def _picamera2():
    try:
        from picamera2 import Picamera2  # provided by python3-picamera2 on Raspberry Pi OS
    except ImportError as err:
        raise SourceError(
            "source.kind 'picamera' needs picamera2 and libcamera, which come from Raspberry Pi OS: "
            "`sudo apt install python3-picamera2` and create the venv with --system-site-packages "
            f"(import failed: {err})") from None
    return Picamera2


class PiCameraSource(FrameSource):
    """A Pi camera; the ISP scales to the tracker's size so Python never resizes full frames."""

    live = True

    def __init__(self, width: int, height: int, fps: float, read_timeout: float = 2.0, camera=None):
        super().__init__(name="picamera", fps=fps, realtime=True)
        self.width, self.height = width, height
        self.read_timeout = read_timeout
        self._factory = camera or _picamera2()
        self._camera = None

    def _open(self) -> None:
        self._camera = self._factory()
        config = self._camera.create_video_configuration(
            main={"size": (self.width, self.height), "format": "RGB888"},
            controls={"FrameRate": self.fps})
        self._camera.configure(config)
        self._camera.start()

    def _grab(self) -> np.ndarray | None:
        # picamera2 names formats by DRM fourcc: "RGB888" is laid out [B, G, R] in memory,
        # which is OpenCV's order, so no conversion is needed.
        return self._camera.capture_array("main", wait=self.read_timeout)

    def _close(self) -> None:
        if self._camera is not None:
            self._camera.stop()
            self._camera.close()
            self._camera = None

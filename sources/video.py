"""Frames from OpenCV: a video file, a stream URL (RTSP/HTTP) or a V4L2 camera."""
from __future__ import annotations

import logging
import re
from pathlib import Path

import cv2
import numpy as np

from pianocam.sources.base import FrameSource, SourceError

logger = logging.getLogger(__name__)


class VideoFileSource(FrameSource):
    """A recorded video file, or a stream URL (treated as live: reopened when it stalls)."""

    def __init__(self, uri: str, fps: float | None = None, realtime: bool = True, loop: bool = False):
        if uri.startswith("file://"):
            uri = uri[len("file://"):]
        self.uri = uri
        self.live = "://" in uri
        if not self.live and not Path(uri).is_file():
            raise SourceError(f"video file not found: {uri}")
        super().__init__(name=uri, fps=fps or 30.0, realtime=realtime, loop=loop)
        self._cap: cv2.VideoCapture | None = None
        self._fps_given = fps is not None

    def _open(self) -> None:
        self._cap = cv2.VideoCapture(self.uri)
        if not self._cap.isOpened():
            raise SourceError(f"OpenCV cannot open {self.uri} (not a video, or no codec for it)")
        native = self._cap.get(cv2.CAP_PROP_FPS)
        if not self._fps_given and native and native > 0:
            self.fps = float(native)

    def _grab(self) -> np.ndarray | None:
        ok, image = self._cap.read()
        return image if ok else None

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

    @property
    def frame_count(self) -> int:
        cap = self._cap or cv2.VideoCapture(self.uri)
        return int(cap.get(cv2.CAP_PROP_FRAME_COUNT))


class V4L2Source(FrameSource):
    """A USB or CSI camera through V4L2, asked for the tracker's resolution so the camera scales."""

    live = True

    def __init__(self, device: str, width: int, height: int, fps: float, reopen_after: float = 5.0):
        self.device = device
        super().__init__(name=device, fps=fps, realtime=True, reopen_after=reopen_after)
        self.width, self.height = width, height
        self._cap: cv2.VideoCapture | None = None

    def _open(self) -> None:
        index = self.device
        match = re.fullmatch(r"(?:/dev/video)?(\d+)", self.device)
        target = int(match.group(1)) if match else index
        self._cap = cv2.VideoCapture(target, cv2.CAP_V4L2)
        if not self._cap.isOpened():
            raise SourceError(f"cannot open camera {self.device}: no such V4L2 device, or it is busy "
                              "(is the user in the 'video' group?)")
        self._cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.width)
        self._cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.height)
        self._cap.set(cv2.CAP_PROP_FPS, self.fps)
        # One buffered frame: the newest image, not one from a queue of stale ones.
        self._cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)

    def _grab(self) -> np.ndarray | None:
        ok, image = self._cap.read() if self._cap is not None else (False, None)
        return image if ok else None

    def _close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None

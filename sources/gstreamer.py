"""Frames from a GStreamer pipeline: a Jetson's CSI camera (nvarguscamerasrc), or any other source element.

The pip OpenCV is built without GStreamer and PyGObject is not in the venv, so the pipeline runs in
`gst-launch-1.0` (JetPack and Debian's gstreamer1.0-tools ship it) and hands raw BGR frames of the
configured size over a pipe: the unit's end of the pipeline is always
`videoconvert ! videoscale ! video/x-raw,format=BGR,width=W,height=H ! fdsink fd=1`.
"""
from __future__ import annotations

import logging
import shlex
import shutil
import subprocess
import threading

import numpy as np

from pianocam.sources.base import FrameSource, SourceError

logger = logging.getLogger(__name__)

# A Jetson's CSI camera: the ISP (nvarguscamerasrc) fills NVMM buffers, nvvidconv copies them to CPU memory.
CSI_PIPELINE = ("nvarguscamerasrc sensor-id={sensor} ! video/x-raw(memory:NVMM),width={width},height={height},"
                "framerate={fps}/1 ! nvvidconv ! video/x-raw,format=BGRx")


def full_pipeline(head: str, width: int, height: int) -> str:
    """The pipeline gst-launch-1.0 runs: the configured head, then raw BGR of the unit's size to stdout."""
    return (f"{head} ! videoconvert ! videoscale ! video/x-raw,format=BGR,width={width},height={height} "
            f"! fdsink fd=1 sync=false")


class GStreamerSource(FrameSource):
    """The pipeline `head` (source.uri; empty: a Jetson's CSI camera 0) through gst-launch-1.0."""

    live = True

    def __init__(self, head: str, width: int, height: int, fps: float, reopen_after: float = 5.0):
        head = head or CSI_PIPELINE.format(sensor=0, width=width, height=height, fps=int(round(fps)))
        super().__init__(name=f"gstreamer:{head.split()[0]}", fps=fps, realtime=True, reopen_after=reopen_after)
        self.head = head
        self.width, self.height = width, height
        self._process: subprocess.Popen | None = None
        self._stderr: list[str] = []

    def _open(self) -> None:
        launch = shutil.which("gst-launch-1.0")
        if launch is None:
            raise SourceError("source.kind 'gstreamer' needs gst-launch-1.0: `sudo apt install gstreamer1.0-tools "
                              "gstreamer1.0-plugins-base` (JetPack has it)")
        try:
            argv = [launch, "-q", *shlex.split(full_pipeline(self.head, self.width, self.height))]
        except ValueError as err:
            raise SourceError(f"source.uri is not a GStreamer pipeline ({err})") from None
        self._process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                         bufsize=self.width * self.height * 3)
        self._stderr = []
        threading.Thread(target=self._drain_stderr, args=(self._process,), daemon=True).start()

    def _drain_stderr(self, process: subprocess.Popen) -> None:
        for line in process.stderr:
            self._stderr.append(line.decode(errors="replace").strip())
            del self._stderr[:-5]

    def _grab(self) -> np.ndarray | None:
        size = self.width * self.height * 3
        data = self._process.stdout.read(size) if self._process is not None else b""
        if len(data) < size:
            if self._process is not None and self._process.poll() not in (None, 0):
                self.last_error = f"gst-launch-1.0 exited {self._process.returncode}: {' '.join(self._stderr)[-300:]}"
                logger.warning("%s: %s", self.name, self.last_error)
            return None
        return np.frombuffer(data, np.uint8).reshape(self.height, self.width, 3)

    def _close(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process.stdout.close()
            self._process = None

"""Frame sources behind one interface: video file or URL, V4L2, picamera2, a GStreamer pipeline, rendered scene."""
from __future__ import annotations

from .base import Frame, FrameSource, SourceError, SourceTimeout

__all__ = ["Frame", "FrameSource", "SourceError", "SourceTimeout", "open_source"]


def open_source(source_config) -> FrameSource:
    """Build (not yet open) the source a [source] config section describes."""
    c = source_config
    if c.kind == "scene":
        from pianocam.device.scene import SceneSpec

        from .scene import SceneSource
        spec = SceneSpec(seed=c.scene_seed, keys=c.scene_keys, seconds=c.scene_seconds,
                         piece=c.scene_piece, fps=c.fps)
        return SceneSource(spec, realtime=c.realtime, loop=c.loop)
    if c.kind == "video":
        from .video import VideoFileSource
        return VideoFileSource(c.uri, fps=None, realtime=c.realtime, loop=c.loop)
    if c.kind == "v4l2":
        from .video import V4L2Source
        return V4L2Source(c.uri or "/dev/video0", c.width, c.height, c.fps)
    if c.kind == "gstreamer":
        from .gstreamer import GStreamerSource
        return GStreamerSource(c.uri, c.width, c.height, c.fps)
    if c.kind == "picamera":
        from .picamera import PiCameraSource
        return PiCameraSource(c.width, c.height, c.fps, read_timeout=c.read_timeout)
    raise SourceError(f"unknown source.kind {c.kind!r}")

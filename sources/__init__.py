"""Frame sources behind one interface: video file or URL, V4L2, picamera2, a GStreamer pipeline."""
from __future__ import annotations

from pianocam.sources.base import Frame, FrameSource, SourceError, SourceTimeout

__all__ = ["Frame", "FrameSource", "SourceError", "SourceTimeout", "open_source"]


def open_source(source_config) -> FrameSource:
    """Build (not yet open) the source a [source] config section describes."""
    c = source_config
    if c.kind == "scene":
        # The rendered demo input belongs to the renderer, which the unit's runtime never imports:
        # the commands open it (pianocam.scene.source.open_configured) and hand it to the unit.
        raise SourceError("source.kind = 'scene' is opened by `pianocam run` and `pianocam demo`, "
                          "which render it; pass the source to Unit(config, source=...)")
    if c.kind == "video":
        from pianocam.sources.video import VideoFileSource
        return VideoFileSource(c.uri, fps=None, realtime=c.realtime, loop=c.loop)
    if c.kind == "v4l2":
        from pianocam.sources.video import V4L2Source
        return V4L2Source(c.uri or "/dev/video0", c.width, c.height, c.fps)
    if c.kind == "gstreamer":
        from pianocam.sources.gstreamer import GStreamerSource
        return GStreamerSource(c.uri, c.width, c.height, c.fps)
    if c.kind == "picamera":
        from pianocam.sources.picamera import PiCameraSource
        return PiCameraSource(c.width, c.height, c.fps, read_timeout=c.read_timeout)
    raise SourceError(f"unknown source.kind {c.kind!r}")

"""The gstreamer frame source through a real gst-launch-1.0: GStreamer's test source and a file pipeline."""
import shutil

import numpy as np
import pytest

from pianocam.config import SourceConfig
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from pianocam.sources import SourceError, open_source
from pianocam.sources.gstreamer import CSI_PIPELINE, GStreamerSource, full_pipeline

pytestmark = pytest.mark.skipif(shutil.which("gst-launch-1.0") is None,
                                reason="gst-launch-1.0 not installed (./setup.sh test installs gstreamer1.0-tools)")


def test_videotestsrc_frames_arrive_as_bgr_at_the_configured_size():
    # pattern=red: every pixel is pure red, so the channel order is checked, not only the shape.
    source = open_source(SourceConfig(kind="gstreamer", uri="videotestsrc pattern=red is-live=true",
                                      width=320, height=240, fps=30))
    assert isinstance(source, GStreamerSource)
    with source:
        frames = [source.read(10.0) for _ in range(5)]
    assert all(f.image.shape == (240, 320, 3) and f.image.dtype == np.uint8 for f in frames)
    b, g, r = frames[-1].image.reshape(-1, 3).mean(0)
    assert r > 200 and g < 40 and b < 40
    assert frames[-1].index > frames[0].index


def test_a_recorded_video_through_filesrc_and_decodebin(tmp_path):
    folder = cached_scene(SceneSpec(seed=7, keys=61, seconds=1.0), tmp_path / "scenes")
    source = GStreamerSource(f"filesrc location={folder / 'video.mp4'} ! decodebin", 480, 270, 30)
    with source:
        frame = source.read(15.0)
    assert frame.image.shape == (270, 480, 3)
    assert frame.image.std() > 10        # a rendered keyboard, not a blank buffer


def test_a_broken_pipeline_says_why_and_the_default_is_the_jetson_csi_camera():
    source = GStreamerSource("nosuchelement", 64, 64, 30, reopen_after=0.2)
    with source:
        with pytest.raises(SourceError):
            source.read(1.0)
    assert "gst-launch-1.0 exited" in source.last_error or not source.online
    assert GStreamerSource("", 1280, 720, 30).head == CSI_PIPELINE.format(sensor=0, width=1280, height=720, fps=30)
    assert full_pipeline("videotestsrc", 8, 6).endswith("width=8,height=6 ! fdsink fd=1 sync=false")

"""Frame sources: files in order or paced with newest-frame-wins, timeouts, reopening, clear errors."""
import time

import cv2
import numpy as np
import pytest

from pianocam.config import load_config
from pianocam.sources import FrameSource, SourceError, SourceTimeout, open_source
from pianocam.sources.picamera import PiCameraSource
from pianocam.sources.video import V4L2Source, VideoFileSource
from tests.conftest import wait_until


@pytest.fixture
def numbered_video(tmp_path):
    """A 40-frame 30 fps clip whose frame i has grey level 5*i."""
    path = tmp_path / "numbered.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30.0, (64, 48))
    for i in range(40):
        writer.write(np.full((48, 64, 3), 5 * i, np.uint8))
    writer.release()
    return path


def test_unpaced_file_gives_every_frame_in_order(numbered_video):
    with VideoFileSource(str(numbered_video), realtime=False) as source:
        frames = []
        while (frame := source.read()) is not None:
            frames.append(frame)
    assert [f.index for f in frames] == list(range(40))
    levels = [int(f.image.mean()) for f in frames]
    assert all(abs(level - 5 * i) <= 4 for i, level in enumerate(levels))
    assert frames[30].t == pytest.approx(1.0)
    assert source.fps == pytest.approx(30.0)


def test_paced_file_with_a_slow_reader_drops_stale_frames(numbered_video):
    with VideoFileSource(str(numbered_video), realtime=True) as source:
        seen = []
        while (frame := source.read(timeout=2)) is not None:
            seen.append(frame.index)
            time.sleep(0.1)  # three frame periods: the reader is slower than the camera
    assert seen == sorted(seen) and len(seen) < 40
    assert source.dropped >= 40 - len(seen) - 1
    assert seen[-1] >= 36  # it kept up with the newest frame rather than falling behind


def test_loop_starts_again(numbered_video):
    with VideoFileSource(str(numbered_video), realtime=False, loop=True) as source:
        indices = [source.read().index for _ in range(90)]
    assert indices == list(range(90))


def test_missing_or_broken_files_are_named(tmp_path):
    with pytest.raises(SourceError, match="not found.*nope.mp4"):
        VideoFileSource(str(tmp_path / "nope.mp4"))
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"this is not a video")
    with pytest.raises(SourceError, match="cannot open"):
        VideoFileSource(str(junk)).open()


def test_missing_camera_is_named_and_retried_not_fatal():
    camera = V4L2Source("/dev/video63", 640, 480, 30, reopen_after=0.2)
    camera.open()  # a camera missing at boot must not stop the daemon
    try:
        assert not camera.online and "/dev/video63" in camera.last_error
        with pytest.raises(SourceTimeout):
            camera.read(timeout=0.5)
        assert wait_until(lambda: camera.reopens >= 1, 5)  # and it keeps trying
    finally:
        camera.close()


class FlakyCamera(FrameSource):
    """A live source that stops delivering after a few frames until it is reopened."""

    live = True

    def __init__(self):
        super().__init__("flaky", fps=100, reopen_after=0.2)
        self.opened = 0
        self.served = 0

    def _open(self):
        self.opened += 1
        self.served = 0

    def _grab(self):
        time.sleep(0.01)
        self.served += 1
        return np.zeros((4, 4, 3), np.uint8) if self.served <= 5 else None


def test_a_stalled_camera_times_out_then_is_reopened():
    source = FlakyCamera().open()
    try:
        source.read(timeout=1)
        with pytest.raises(SourceTimeout):
            for _ in range(10):
                source.read(timeout=0.1)
        deadline = time.monotonic() + 5
        while source.opened < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert source.reopens >= 1 and source.opened >= 2
        assert source.read(timeout=2) is not None  # frames flow again after the reopen
    finally:
        source.close()


class FakePicamera2:
    """Follows picamera2's API for the calls PiCameraSource makes (no camera here)."""

    instances = []

    def __init__(self):
        self.started = False
        self.config = None
        FakePicamera2.instances.append(self)

    def create_video_configuration(self, main=None, controls=None, **kw):
        return {"main": main, "controls": controls}

    def configure(self, config):
        self.config = config

    def start(self):
        self.started = True

    def capture_array(self, name="main", wait=None):
        width, height = self.config["main"]["size"]
        return np.full((height, width, 3), 7, np.uint8)

    def stop(self):
        self.started = False

    def close(self):
        pass


def test_picamera_asks_the_isp_for_the_trackers_size():
    with PiCameraSource(320, 240, 30, camera=FakePicamera2) as source:
        frame = source.read(timeout=2)
    camera = FakePicamera2.instances[-1]
    assert camera.config["main"] == {"size": (320, 240), "format": "RGB888"}
    assert frame.image.shape == (240, 320, 3) and not camera.started


def test_picamera_without_libcamera_says_what_to_install():
    with pytest.raises(SourceError, match="python3-picamera2"):
        PiCameraSource(320, 240, 30)


def test_open_source_follows_the_config(numbered_video):
    config = load_config(environ={"PIANOCAM_SOURCE_KIND": "video", "PIANOCAM_SOURCE_URI": str(numbered_video),
                                  "PIANOCAM_SOURCE_REALTIME": "false"})
    with open_source(config.source) as source:
        assert isinstance(source, VideoFileSource) and source.read().index == 0

"""A slow board's frame rate: which frames are kept, the hands held over an onset, `pianocam fingering --fps`."""
import json
import subprocess
import sys

import numpy as np
import pytest

from pianocam.fingering.assign import HOLD_S, _window
from pianocam.hands.tracker import Hands
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from pianocam.sources.pacing import FramePacer


@pytest.mark.parametrize("fps", [5, 8, 10, 15, 20, 30])
def test_the_pacer_keeps_n_frames_a_second_of_a_30_fps_camera(fps):
    pacer = FramePacer(fps)
    kept = [i / 30 for i in range(30 * 10) if pacer.keep(i / 30)]
    assert abs(len(kept) - 10 * fps) <= 1
    assert max(np.diff(kept)) <= 1 / fps + 1 / 30 + 1e-9     # never more than a camera frame late
    assert all(FramePacer(0).keep(t) for t in kept)


def test_an_onset_between_sparse_frames_takes_the_next_frame_then_the_last_within_the_hold():
    frames = [Hands(i, t, 960, 540) for i, t in enumerate([0.0, 0.1, 0.2, 0.6])]
    times = np.array([h.t for h in frames])
    assert [h.t for h in _window(frames, times, 0.105)] == [0.1]   # a frame close by: as at 30 fps
    assert [h.t for h in _window(frames, times, 0.15)] == [0.2]    # none close: the first after
    assert [h.t for h in _window(frames, times, 0.6 + HOLD_S - 0.01)] == [0.6]   # none after: the last before
    assert _window(frames, times, 0.6 + HOLD_S + 0.05) == []       # too far from any frame: no evidence


def test_offline_fingering_at_10_fps_processes_a_third_of_the_frames(tmp_path):
    folder = cached_scene(SceneSpec(seed=7, keys=61, seconds=5.0), tmp_path / "scenes")
    truth = json.loads((folder / "truth.json").read_text())
    result = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "fingering", "--video",
                             str(folder / "video.mp4"), "--midi", str(folder / "performance.mid"), "--json",
                             "--fps", "10"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    expected = sorted(truth["notes"], key=lambda n: (n["onset"], n["pitch"]))
    right = sum(got["hand"] == e["hand"] and got["finger"] == e["finger"] for got, e in zip(lines, expected))
    assert right / len(expected) >= 0.85, f"{right}/{len(expected)}"
    bad = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "fingering", "--video",
                          str(folder / "video.mp4"), "--midi", str(folder / "performance.mid"), "--fps", "-3"],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "--fps" in bad.stderr and "Traceback" not in bad.stderr


def test_a_hot_soc_lowers_the_tracking_rate_and_metrics_say_so(tmp_path):
    # The thermal sensor is the one absent part: this box has none, so its reading is given.
    from pianocam.hands.tracker import HandTracker
    from pianocam.scene.source import SceneSource
    from pianocam.unit.budget import FrameBudget
    from pianocam.unit.pipeline import Pipeline

    source = SceneSource(SceneSpec(seed=7, keys=61, seconds=3.0), realtime=True, cache_dir=tmp_path)
    events = []
    with HandTracker(model_complexity=0) as tracker:
        pipeline = Pipeline(source, tracker, lambda kind, body: events.append((kind, body)) or 0,
                            budget=FrameBudget(hot_fps=5.0, temperature=lambda: 85.0))
        source.open()
        try:
            progress = pipeline.run()
        finally:
            source.close()
    # 3 s at 5 frames a second at most (fewer when a loaded box tracks slower than that); the source's
    # other 70-odd frames are skipped here or dropped by the source.
    assert 3 <= progress.frames <= 17, progress.frames
    metrics = [body for kind, body in events if kind == "metrics"][-1]
    assert metrics["throttled"] is True and metrics["max_fps"] == 5.0 and metrics["skipped_frames"] > 0
    assert metrics["cpu_temperature"] == 85.0
    assert metrics["skipped_frames"] + metrics["dropped_frames"] + progress.frames >= 80
    cool = FrameBudget(hot_fps=5.0, temperature=lambda: 50.0)
    assert all(cool.keep(i / 30) for i in range(90)) and not cool.throttled and cool.limit == 0.0

"""The calibration stage on its own: tries backing off while no keyboard is in view, a new map on request."""
import time

import numpy as np

from pianocam.calibration.live import LiveCalibration
from pianocam.config import load_config
from pianocam.scene import Scene, SceneSpec
from pianocam.sources import FrameSource


class Uncovered(FrameSource):
    """A camera whose view is blocked (flat grey) for `blocked_s` seconds, then shows the keyboard; paced at 30 fps."""

    def __init__(self, keyboard: np.ndarray, blocked_s: float, seconds: float = 5.0):
        super().__init__("uncovered", fps=30, realtime=True)
        self.keyboard, self.blocked, self.frames = keyboard, int(blocked_s * 30), int(seconds * 30)
        self._shown = 0

    def _open(self):
        self._shown = 0

    def _grab(self):
        self._shown += 1
        if self._shown > self.frames:
            return None
        return self.keyboard if self._shown > self.blocked else np.full_like(self.keyboard, 90)


def test_no_keyboard_in_view_is_retried_backing_off_then_mapped_again_on_request(tmp_path):
    keyboard, _ = Scene(SceneSpec(seed=5, keys=61, seconds=1.0)).frame(0)
    events, maps = [], []
    path = tmp_path / "keymap.json"
    stage = LiveCalibration(load_config(environ={}).calibration, path, lambda kind, body: events.append(body),
                            on_keymap=maps.append)
    mapped_from = None  # when the frame that was mapped was handed to the stage
    with Uncovered(keyboard, blocked_s=1.0) as source:
        while (frame := source.read()) is not None:
            offered = time.monotonic() - source.started_at
            stage.add_frame(frame.image)
            if stage.keymap is not None:
                mapped_from = offered
                break
    # Tries at 0 s and 0.5 s find no keys; the keyboard is in view from 1.0 s, but the third try waits
    # until 1.5 s (and finds it: a fourth would wait until 3.5 s).
    assert mapped_from is not None and 1.5 <= mapped_from < 3.5, mapped_from
    # The same failure is published once, not on every try.
    assert [e["state"] for e in events] == ["missing", "ok"] and "recalibration" in events[0]
    assert maps == [stage.keymap] and path.exists() and events[1]["keys"] == len(stage.keymap.keys)

    stage.add_frame(keyboard)  # mapped: no further tries
    assert len(maps) == 1 and len(events) == 2
    stage.request()
    stage.add_frame(keyboard)  # on request the next frame maps the keys again, with no backoff left over
    assert len(maps) == 2 and maps[1] is not maps[0] and maps[1].midis == maps[0].midis
    assert [e["state"] for e in events] == ["missing", "ok", "ok"]

    # A unit started with the saved map uses it as it is on the first frame.
    events.clear()
    loaded = LiveCalibration(load_config(environ={}).calibration, path, lambda kind, body: events.append(body),
                             keymap=maps[1], on_keymap=maps.append)
    loaded.add_frame(keyboard)
    assert len(maps) == 2 and loaded.keymap is maps[1] and [e["state"] for e in events] == ["ok"]

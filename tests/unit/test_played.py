"""The note stage on its own: notes from a source on its own clock put on the frame clock, decided without
frames when none come, counted in the session and judged by a practice session."""
import time

import numpy as np
import pytest

from pianocam.config import ConfigError
from pianocam.fingering import FingerAssigner
from pianocam.notes import NoteEvent, NoteSource
from pianocam.practice.live import PracticeSession
from pianocam.sources import FrameSource
from pianocam.unit.played import PlayedNotes


class Camera(FrameSource):
    """Stands in for a USB camera (absent here): grey frames at 30 fps."""

    live = True

    def __init__(self):
        super().__init__("camera", fps=30)

    def _open(self):
        pass

    def _grab(self):
        time.sleep(1 / 30)
        return np.full((120, 160, 3), 90, np.uint8)


class Keyboard(NoteSource):
    """Stands in for a MIDI keyboard on a USB port (absent here), following LiveMidiSource: onsets count from
    time.monotonic() 0, and the notes played are handed over in batches, then the keyboard is unplugged."""

    name = "keyboard"

    def __init__(self, batches):
        self.batches = list(batches)

    @property
    def monotonic_origin(self) -> float:
        return 0.0

    def poll(self, timeout=0.0):
        return self.batches.pop(0) if self.batches else None


def test_notes_without_frames_go_out_on_the_frame_clock_counted_and_judged():
    now = time.monotonic()
    # The first two notes of scales/c_major: C3 in the left hand and C4 in the right, together.
    chord = [NoteEvent(48, now, None, 70, "midi"), NoteEvent(60, now, None, 70, "midi")]
    camera = Camera().open()
    try:
        stage = PlayedNotes(Keyboard([[], chord]), FingerAssigner(None), frames=camera, camera_latency=0.05)
        assert stage.open() is None
        assert stage.session_update() is not None and stage.session_update() is None  # the fresh session, once
        practice = PracticeSession.from_request({"exercise": "scales/c_major"})
        stage.new_session("Ada", practice)
        stage.session_update()

        quiet = stage.poll(flush=True)
        assert quiet.notes == [] and quiet.messages == [] and stage.session_update() is None
        heard = stage.poll(flush=True)
    finally:
        camera.close()
    assert heard.notes == chord
    # A live camera stamps a frame camera_latency after the moment it shows, counting from its opening.
    assert abs(heard.clock_offset - (camera.started_at - 0.0 - 0.05)) < 1e-9
    judged = [(m["pitch"], m["finger"], m["expected"]["pitch"]) for m in heard.messages]
    assert judged == [(48, None, 48), (60, None, 60)]
    assert all(m["verdict"] and m["played"] for m in heard.messages)
    session = stage.session_update()
    assert session["notes"] == 2 and session["unknown_share"] == 1.0 and session["student"] == "Ada"
    assert session["practice"] and stage.decided == 2

    assert stage.poll(flush=True).notes == [] and stage.poll().messages == []  # unplugged: frames go on
    missed, report = stage.finish_practice()
    assert missed == []  # the rest of the scale was not reached: not missed
    assert report["played_notes"] == 2 and report["counts"]["right"] == 2
    assert report["expected_notes"] == len(practice.score.notes)
    assert stage.finish_practice() is None
    assert stage.end_session()["active"] is False


def test_a_frame_source_that_brings_its_notes_is_heard_from_them(tmp_path):
    import mido

    from pianocam.config import load_config
    from pianocam.unit.assembly import open_notes

    track = mido.MidiTrack([mido.Message("note_on", note=60, velocity=70, time=0),
                            mido.Message("note_off", note=60, velocity=0, time=240)])
    performance = tmp_path / "performance.mid"
    mido.MidiFile(tracks=[track]).save(performance)

    class Recording(Camera):
        """A recorded take that comes with the MIDI of what was played (as a rendered scene does)."""

        def performance(self):
            return performance

    config = load_config(environ={})
    assert config.notes.kind == "auto"
    brought = open_notes(config, Recording())
    assert brought.name == "midi-file:performance.mid" and [n.pitch for n in brought.notes] == [60]
    assert open_notes(config, Camera()).name == "midi:auto"  # a camera's notes come from the keyboard
    with pytest.raises(ConfigError, match="notes.kind"):
        config.notes.kind = "scene"  # a source's own notes are reached through auto only

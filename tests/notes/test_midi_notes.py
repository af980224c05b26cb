"""MIDI note sources: files read exactly, replayed at pace and looped; a keyboard re-plugged is found again."""
import threading
import time

import mido
import pytest

from pianocam.notes.midi import LiveMidiSource, MidiFileSource, read_midi_notes
from tests.conftest import wait_until


@pytest.fixture
def scale_midi(tmp_path):
    """C major up one octave, quarter notes at 120 BPM (0.5 s), then a C-E-G chord."""
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("set_tempo", tempo=500000, time=0))
    for pitch in (60, 62, 64, 65, 67, 69, 71, 72):
        track.append(mido.Message("note_on", note=pitch, velocity=80, time=0))
        track.append(mido.Message("note_off", note=pitch, velocity=0, time=240))
        track.append(mido.Message("note_on", note=0, velocity=0, time=240))  # a rest, sent as note_on vel 0
    for pitch in (60, 64, 67):
        track.append(mido.Message("note_on", note=pitch, velocity=70, time=0))
    for i, pitch in enumerate((60, 64, 67)):
        track.append(mido.Message("note_off", note=pitch, time=480 if i == 0 else 0))
    midi = mido.MidiFile(ticks_per_beat=480)
    midi.tracks.append(track)
    path = tmp_path / "scale.mid"
    midi.save(path)
    return path


def test_file_notes_have_exact_times(scale_midi):
    notes = read_midi_notes(scale_midi)
    assert [n.pitch for n in notes] == [60, 62, 64, 65, 67, 69, 71, 72, 60, 64, 67]
    assert [round(n.onset, 3) for n in notes[:3]] == [0.0, 0.5, 1.0]
    assert all(round(n.offset - n.onset, 3) == 0.25 for n in notes[:8])
    assert notes[8].onset == pytest.approx(4.0) and notes[10].offset == pytest.approx(4.5)
    assert notes[0].name == "C4"


def test_broken_file_is_named(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd nonsense")
    with pytest.raises(ValueError, match="bad.mid"):
        read_midi_notes(bad)


def test_realtime_replay_releases_notes_at_their_onsets(scale_midi):
    source = MidiFileSource(scale_midi, realtime=True, speed=4.0).open()
    began = time.monotonic()
    arrivals = []
    while (due := source.poll(timeout=0.01)) is not None:
        arrivals += [(n.onset, time.monotonic() - began) for n in due]
    assert len(arrivals) == 11
    for onset, arrived in arrivals:
        assert onset / 4.0 - 0.01 <= arrived <= onset / 4.0 + 0.05


def test_unpaced_replay_gives_everything_then_ends(scale_midi):
    source = MidiFileSource(scale_midi, realtime=False).open()
    assert len(source.poll()) == 11 and source.poll() is None


def test_looped_replay_shifts_onsets_by_the_period(scale_midi):
    source = MidiFileSource(scale_midi, realtime=True, speed=50.0, loop_period=5.0).open()
    onsets = []
    deadline = time.monotonic() + 2
    while len(onsets) < 14 and time.monotonic() < deadline:
        onsets += [n.onset for n in source.poll(timeout=0.005)]
    assert onsets[11:14] == pytest.approx([5.0, 5.5, 6.0])


class FakePort:
    def __init__(self, name, callback):
        self.name, self.callback, self.closed = name, callback, False

    def close(self):
        self.closed = True


class FakeMidiBackend:
    """Follows the part of mido's Backend API the source uses; stands in for a USB keyboard."""

    def __init__(self):
        self.ports = []
        self.opened = []
        self.lock = threading.Lock()

    def get_input_names(self):
        with self.lock:
            return list(self.ports)

    def open_input(self, name, callback=None):
        with self.lock:
            if name not in self.ports:
                raise OSError(f"unknown port {name}")
            port = FakePort(name, callback)
            self.opened.append(port)
            return port

    def play(self, *messages):
        for message in messages:
            self.opened[-1].callback(message)




def test_a_keyboard_switched_off_and_on_is_found_again_within_2_s():
    backend = FakeMidiBackend()
    backend.ports = ["Midi Through:Midi Through Port-0 14:0"]
    source = LiveMidiSource(backend=backend, rescan=0.2).open()
    try:
        assert not source.connected.is_set()  # only the Through port: no keyboard yet
        backend.ports.append("Digital Piano:Digital Piano MIDI 1 20:0")
        assert wait_until(lambda: source.connected.is_set(), 2.0)
        backend.play(mido.Message("note_on", note=60, velocity=90), mido.Message("note_off", note=60))
        notes = source.poll(timeout=0.5)
        assert [(n.pitch, n.velocity, n.source) for n in notes] == [(60, 90, "midi")]
        assert notes[0].offset is not None and notes[0].offset >= notes[0].onset

        backend.ports.remove("Digital Piano:Digital Piano MIDI 1 20:0")  # switched off
        assert wait_until(lambda: not source.connected.is_set(), 2.0)
        assert backend.opened[0].closed
        unplugged = time.monotonic()
        backend.ports.append("Digital Piano:Digital Piano MIDI 1 24:0")  # back, on another client number
        assert wait_until(lambda: source.connected.is_set(), 2.0)
        assert time.monotonic() - unplugged < 2.0 and source.reconnects == 2
        backend.play(mido.Message("note_on", note=64, velocity=50))
        assert [n.pitch for n in source.poll(timeout=0.5)] == [64]
    finally:
        source.close()


def test_no_midi_system_is_not_fatal():
    class NoAlsa:
        def get_input_names(self):
            raise RuntimeError("MidiInAlsa::initialize: error creating ALSA sequencer client object.")

    source = LiveMidiSource(backend=NoAlsa(), rescan=0.05).open()
    assert wait_until(lambda: "ALSA" in (source.last_error or ""), 5)
    assert source.poll() == []
    source.close()

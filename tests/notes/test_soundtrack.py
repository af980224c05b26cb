"""Notes from a video's own soundtrack (PyAV): a rendered scene muxed with its audio, and the real Ode to Joy clip."""
import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

from pianocam.commands.cli import main
from pianocam.notes.audio import SoundtrackSource, audio_file_source, has_soundtrack
from pianocam.notes.evaluate import match_notes, score_notes, sequence_match
from pianocam.scene import SceneSpec
from pianocam.scene.source import cached_scene
from pianocam.sources import SourceError
from tests.notes.test_audio_notes import ODE_TO_JOY

ODE_CLIP = Path(__file__).resolve().parents[2].parent / "shared/data/real/clips/esnylmz-ode-to-joy-right-hand.mp4"


def notes_of(source):
    with source:
        return source.read_all()


def mux(video: Path, wav: Path, out: Path) -> Path:
    """The rendered video with its rendered sound as an AAC track, as a phone would record it."""
    audio, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    with av.open(str(video)) as src, av.open(str(out), "w") as dst:
        v_in = src.streams.video[0]
        v_out = dst.add_stream_from_template(v_in)
        a_out = dst.add_stream("aac", rate=rate, layout="stereo" if audio.shape[1] == 2 else "mono")
        for packet in src.demux(v_in):
            if packet.dts is None:
                continue
            packet.stream = v_out
            dst.mux(packet)
        step = 1024
        for i in range(0, len(audio), step):
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio[i:i + step].T), format="fltp",
                                               layout=a_out.layout.name)
            frame.sample_rate, frame.pts, frame.time_base = rate, i, Fraction(1, rate)
            dst.mux(a_out.encode(frame))
        dst.mux(a_out.encode(None))
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = cached_scene(SceneSpec(seed=102, keys=61, seconds=6.0, piece="arpeggios"),
                          tmp_path_factory.mktemp("scene"))
    if not (folder / "audio.wav").exists():
        pytest.fail("the scene has no audio.wav: fluidsynth and timgm6mb-soundfont come with ./setup.sh test")
    return folder, mux(folder / "video.mp4", folder / "audio.wav", folder / "with-sound.mp4")


def test_soundtrack_gives_the_same_notes_as_the_sound_file(rendered):
    folder, video = rendered
    truth = json.loads((folder / "truth.json").read_text())["notes"]
    from_video = notes_of(audio_file_source(video))
    from_wav = notes_of(audio_file_source(folder / "audio.wav"))
    assert isinstance(audio_file_source(video), SoundtrackSource)
    truth_pairs = [(n["pitch"], n["onset"]) for n in truth]
    s_video = score_notes(truth_pairs, [(n.pitch, n.onset) for n in from_video])
    s_wav = score_notes(truth_pairs, [(n.pitch, n.onset) for n in from_wav])
    # AAC is lossy, so a note or two may differ; the transcription must be as good as from the wav.
    assert s_video.f1 >= s_wav.f1 - 0.05 and s_video.f1 >= 0.8, (s_video, s_wav)


def test_video_without_sound_is_refused_in_one_line(rendered, capsys):
    folder, _ = rendered
    assert not has_soundtrack(folder / "video.mp4")
    with pytest.raises(SourceError, match="no audio track"):
        notes_of(SoundtrackSource(folder / "video.mp4"))
    assert main(["fingering", "--video", str(folder / "video.mp4"), "--json"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no audio track" in err[0] and "video.mp4" in err[0], err


def test_fingering_takes_notes_from_the_videos_soundtrack(rendered, capsys):
    folder, video = rendered
    assert main(["fingering", "--video", str(video), "--json"]) == 0
    captured = capsys.readouterr()
    assert "notes from basic-pitch on the video's soundtrack" in captured.err
    lines = [json.loads(line) for line in captured.out.splitlines()]
    truth = json.loads((folder / "truth.json").read_text())["notes"]
    assert len(lines) >= 0.8 * len(truth) and all(line["source"] == "audio" for line in lines)
    pairs = match_notes([(t["pitch"], t["onset"]) for t in truth], [(n["pitch"], n["onset"]) for n in lines], 0.05)
    right = sum((truth[i]["hand"], truth[i]["finger"]) == (lines[j]["hand"], lines[j]["finger"]) for i, j in pairs)
    assert right >= 0.8 * len(truth), (right, len(truth))


@pytest.mark.skipif(not ODE_CLIP.exists(), reason="../shared/data (the real clips) is not here")
def test_real_clip_soundtrack_is_ode_to_joy():
    notes = notes_of(audio_file_source(ODE_CLIP))
    pitches = [n.pitch for n in notes]
    # Measured: the 30 melody notes in order, nothing extra (as from the ffmpeg-extracted mp3).
    assert sequence_match(ODE_TO_JOY, pitches) >= 28 and len(pitches) <= 32, pitches

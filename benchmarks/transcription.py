"""Audio transcription quality and speed: rendered performances' audio vs their truth notes, and a real clip.

Note-level precision/recall/F1 with mir_eval's onset rule (pitch exact, onset within 50 ms), the mean
onset error, and the real-time factor of the streaming Transcriber on one thread.

Run: python benchmarks/transcription.py [--hop 142] [--onset-threshold 0.5] [--frame-threshold 0.3]
                                        [--melodia] [--octave-ratio 0.8] [--soundfont PATH] [--quick]
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile

from pianocam.notes import note_name
from pianocam.notes.evaluate import score_notes, sequence_match
from pianocam.notes.resample import Resampler
from pianocam.notes.transcribe import Transcriber, load_model
from pianocam.scene import Scene, SceneSpec
from pianocam.scene.render import write_midi

PERFORMANCES = (
    SceneSpec(seed=1, piece="scales", keys=61),
    SceneSpec(seed=2, piece="arpeggios", keys=61),
    SceneSpec(seed=3, piece="chords", keys=61),
    SceneSpec(seed=4, piece="crossings", keys=88),
    SceneSpec(seed=5, piece="mixed", keys=88),
    SceneSpec(seed=6, piece="scales", keys=88, tempo=140.0),
    SceneSpec(seed=7, piece="chords", keys=88, tempo=80.0),
    SceneSpec(seed=8, piece="mixed", keys=61, tempo=120.0, hands="right"),
)
REAL_CLIP = Path(__file__).resolve().parents[2] / "shared" / "data" / "real" / "clips" / "esnylmz-ode-to-joy-right-hand.mp4"
# Ode to Joy as the clip plays it (right hand, C major, two phrases): what a listener would transcribe.
ODE_TO_JOY = [64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 64, 62, 62,
              64, 64, 65, 67, 67, 65, 64, 62, 60, 60, 62, 64, 62, 60, 60]
SOUNDFONT = Path("/usr/share/sounds/sf2/TimGM6mb.sf2")


def render_audio(spec: SceneSpec, soundfont: Path, cache: Path) -> tuple[Path, list[tuple[int, float]]]:
    """The performance's truth notes and its audio rendered with fluidsynth (no video needed here)."""
    notes = Scene(spec).notes
    stem = f"{spec.piece}-{spec.seed}-{spec.keys}-{spec.tempo:g}-{spec.hands}-{soundfont.stem}"
    wav = cache / f"{stem}.wav"
    if not wav.is_file():
        write_midi(notes, spec.tempo, cache / f"{stem}.mid")
        subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(wav), "-r", "44100", str(soundfont),
                        str(cache / f"{stem}.mid")], check=True, capture_output=True)
    return wav, [(n["pitch"], n["onset"]) for n in notes]


def transcribe(path: Path, session, **options) -> tuple[list, float, float]:
    """Stream a file through the Transcriber as a live source would; returns (notes, seconds of audio, compute)."""
    audio, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    audio = audio.mean(axis=1)
    resampler, transcriber = Resampler(rate, 22050), Transcriber(session, **options)
    began, notes = time.perf_counter(), []
    block = rate // 10
    for i in range(0, len(audio), block):
        notes += transcriber.feed(resampler.feed(audio[i:i + block]))
    notes += transcriber.feed(resampler.feed(np.zeros(0, np.float32), final=True)) + transcriber.finish()
    return notes, len(audio) / rate, time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hop", type=int, default=142, help="window hop in frames (142 = basic-pitch's)")
    parser.add_argument("--onset-threshold", type=float, default=0.5)
    parser.add_argument("--frame-threshold", type=float, default=0.3)
    parser.add_argument("--melodia", action="store_true", help="basic-pitch's notes-without-onset rule")
    parser.add_argument("--octave-ratio", type=float, default=0.8, help="octave-ghost rule; 0 turns it off")
    parser.add_argument("--soundfont", type=Path, default=SOUNDFONT)
    parser.add_argument("--quick", action="store_true", help="three performances, no real clip")
    args = parser.parse_args()
    options = {"hop_frames": args.hop, "onset_threshold": args.onset_threshold,
               "frame_threshold": args.frame_threshold, "melodia": args.melodia,
               "octave_ratio": args.octave_ratio}
    session = load_model(threads=1)
    cache = Path(tempfile.gettempdir()) / "pianocam-transcription-bench"
    cache.mkdir(exist_ok=True)
    latency = Transcriber(session, **options).latency_bound
    print(f"options {options}, soundfont {args.soundfont.name}; latency bound {latency:.2f} s + compute")
    print(f"{'performance':<32}{'notes':>6}{'found':>6}{'prec':>7}{'recall':>7}{'F1':>7}{'onset ms':>9}{'RTF':>7}")
    totals = np.zeros(3)
    audio_s = compute_s = 0.0
    for spec in PERFORMANCES[:3] if args.quick else PERFORMANCES:
        wav, truth = render_audio(spec, args.soundfont, cache)
        notes, seconds, compute = transcribe(wav, session, **options)
        s = score_notes(truth, [(n.pitch, n.onset) for n in notes])
        totals += (s.truth, s.estimated, s.matched)
        audio_s, compute_s = audio_s + seconds, compute_s + compute
        label = f"{spec.piece} seed {spec.seed}, {spec.keys} keys, {spec.tempo:g} bpm"
        print(f"{label:<32}{s.truth:>6}{s.estimated:>6}{s.precision:>7.3f}{s.recall:>7.3f}{s.f1:>7.3f}"
              f"{1000 * s.mean_onset_error:>9.1f}{compute / seconds:>7.3f}")
    t, e, m = totals
    p, r = m / e, m / t
    print(f"{'all':<32}{int(t):>6}{int(e):>6}{p:>7.3f}{r:>7.3f}{2 * p * r / (p + r):>7.3f}{'':>9}"
          f"{compute_s / audio_s:>7.3f}")
    if args.quick or not REAL_CLIP.is_file() or not shutil.which("ffmpeg"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "clip.wav"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-i", str(REAL_CLIP), "-vn", "-ac", "1", str(wav)], check=True)
        notes, seconds, compute = transcribe(wav, session, **options)
    found = sequence_match(ODE_TO_JOY, [n.pitch for n in notes])
    print(f"\nreal clip {REAL_CLIP.name} ({seconds:.1f} s, RTF {compute / seconds:.3f}): "
          f"{found}/{len(ODE_TO_JOY)} melody notes found in order, {len(notes) - found} extra notes")
    print("  " + " ".join(f"{note_name(n.pitch)}@{n.onset:.2f}" for n in notes))


if __name__ == "__main__":
    main()

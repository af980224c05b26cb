"""Assembles scenes frame by frame and writes video.mp4, performance.mid, truth.json, audio.wav."""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import cv2
import numpy as np

from pianocam.scene.camera import make_camera
from pianocam.scene.figure import SKINS, draw_hand
from pianocam.scene.keyboard import keyboard_keys
from pianocam.scene.motion import TIP_LANDMARK, HandMotion
from pianocam.scene.score import compose
from pianocam.scene.spec import SceneSpec
from pianocam.scene.stage import develop, draw_keyboard, key_regions, lighting_gain, noise_bank

logger = logging.getLogger(__name__)

MIDDLE_C = 60
SOUNDFONTS = ("TimGM6mb.sf2", "default-GM.sf2", "FluidR3_GM.sf2")
SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")
TICKS_PER_BEAT = 480


def _r(p) -> list[float]:
    return [round(float(v), 2) for v in p]


class Scene:
    """A deterministic rendered performance: same spec, same notes, same pixels."""

    def __init__(self, spec: SceneSpec, notes: list[dict] | None = None):
        self.spec = spec
        rng = np.random.default_rng([spec.seed, 2])
        self._keys = keyboard_keys(spec.keys)
        self.camera = make_camera(spec.keys, spec.width, spec.height, spec.tilt, spec.rotate, spec.distance,
                                  spec.view)
        # Given notes (an exercise as practised, pianocam.scene.exercise_performance) replace the composed piece.
        self.notes = notes if notes is not None else compose(spec.piece, spec.seed, spec.seconds, spec.tempo,
                                                             spec.hands)
        self.frame_count = int(round(spec.seconds * spec.fps))
        by_midi = {k.midi: k for k in self._keys}
        body_x = by_midi[MIDDLE_C].press_point[0]
        self._hands = {hand: HandMotion(hand, self.notes, by_midi, body_x, rng)
                       for hand in ("left", "right")}
        self._hands = {h: m for h, m in self._hands.items() if m.present()}
        self.skin = SKINS[int(rng.integers(len(SKINS)))]
        self._static = draw_keyboard(self.camera, self._keys, spec.width, spec.height, rng, body=spec.body)
        # The pressed look is drawn once for all keys; frames copy in the held keys'
        # pixels only, so the wood grain of this copy never shows.
        self._pressed = draw_keyboard(self.camera, self._keys, spec.width, spec.height,
                                      np.random.default_rng([spec.seed, 3]), pressed=True, body=spec.body)
        self._regions = key_regions(self.camera, self._keys, spec.width, spec.height)
        self._index = {k.midi: i for i, k in enumerate(self._keys)}
        self._gain = lighting_gain(spec.lighting, spec.width, spec.height)
        self._noise = noise_bank(spec.noise, spec.width, spec.height, rng)
        self.keys = self._key_truth()

    def _key_truth(self) -> list[dict]:
        out = []
        w, h = self.spec.width, self.spec.height
        for key in self._keys:
            poly = self.camera.project(key.corners)
            centre = self.camera.project([key.press_point])[0]
            out.append({"midi": key.midi, "name": key.name, "black": key.black,
                        "polygon": [_r(p) for p in poly], "center": _r(centre),
                        "visible": bool(0 <= centre[0] < w and 0 <= centre[1] < h)})
        return out

    def _hand_truth(self, landmarks: np.ndarray) -> dict:
        """Pixels of the drawn joints: fingertips, wrist and all 21 in MediaPipe order."""
        px = self.camera.project(landmarks)
        return {"fingertips": {str(f): _r(px[i]) for f, i in TIP_LANDMARK.items()},
                "wrist": _r(px[0]), "landmarks": [_r(p) for p in px]}

    def sounding(self, t: float) -> list[int]:
        return sorted({n["pitch"] for n in self.notes if n["onset"] <= t < n["offset"]})

    def frame(self, index: int) -> tuple[np.ndarray, dict]:
        """The image (BGR uint8) and its truth at t = index / fps."""
        if not 0 <= index < self.frame_count:
            raise IndexError(f"frame {index} outside 0..{self.frame_count - 1}")
        t = index / self.spec.fps
        img = self._static.copy()
        held = self.sounding(t)
        for pitch in held:
            region = self._regions[self._index[pitch]]
            if region is not None:
                sl, mask = region
                np.copyto(img[sl], self._pressed[sl], where=mask[:, :, None])
        hands = {}
        for hand, motion in self._hands.items():
            lm = motion.landmarks(t)
            draw_hand(img, self.camera, lm, self.skin)
            hands[hand] = self._hand_truth(lm)
        noise = self._noise[index % len(self._noise)] if self._noise else None
        img = develop(img, self._gain, noise)
        return img, {"index": index, "t": round(t, 6), "hands": hands, "pressed": held}

    def frames(self):
        for i in range(self.frame_count):
            img, truth = self.frame(i)
            yield i, i / self.spec.fps, img, truth

    def truth(self, frames: list[dict] | None = None) -> dict:
        """The truth.json content; frame truths are computed (without images) unless given."""
        if frames is None:
            frames = [self.frame_truth(i) for i in range(self.frame_count)]
        return {"spec": self.spec.to_dict(), "width": self.spec.width, "height": self.spec.height,
                "fps": self.spec.fps, "homography": [_r(row) for row in self.camera.homography.tolist()],
                "keys": self.keys, "notes": self.notes, "frames": frames}

    def frame_truth(self, index: int) -> dict:
        t = index / self.spec.fps
        hands = {hand: self._hand_truth(m.landmarks(t)) for hand, m in self._hands.items()}
        return {"index": index, "t": round(t, 6), "hands": hands, "pressed": self.sounding(t)}


def write_midi(notes: list[dict], tempo: float, path: Path) -> None:
    """One track per hand, times exact to the tick at TICKS_PER_BEAT."""
    import mido

    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo), time=0))
    mid.tracks.append(meta)
    ticks_per_second = TICKS_PER_BEAT * 1e6 / mido.bpm2tempo(tempo)
    for channel, hand in enumerate(("right", "left")):
        events = []
        for n in notes:
            if n["hand"] != hand:
                continue
            events.append((round(n["onset"] * ticks_per_second), 1, n["pitch"], n["velocity"]))
            events.append((round(n["offset"] * ticks_per_second), 0, n["pitch"], 0))
        if not events:
            continue
        track = mido.MidiTrack()
        track.append(mido.MetaMessage("track_name", name=f"{hand} hand", time=0))
        track.append(mido.Message("program_change", program=0, channel=channel, time=0))
        now = 0
        # Note-offs sort before note-ons at the same tick so repeated notes retrigger.
        for tick, on, pitch, vel in sorted(events):
            kind = "note_on" if on else "note_off"
            track.append(mido.Message(kind, note=pitch, velocity=vel, channel=channel, time=tick - now))
            now = tick
        mid.tracks.append(track)
    mid.save(str(path))


def find_soundfont() -> Path | None:
    for name in SOUNDFONTS:
        if (SOUNDFONT_DIR / name).is_file():
            return SOUNDFONT_DIR / name
    found = sorted(SOUNDFONT_DIR.glob("*.sf2")) if SOUNDFONT_DIR.is_dir() else []
    return found[0] if found else None


def synthesize(midi: Path, wav: Path) -> Path | None:
    """Render the MIDI to a piano WAV with fluidsynth; None when it is not installed."""
    exe = shutil.which("fluidsynth")
    font = find_soundfont()
    if exe is None or font is None:
        logger.info("no fluidsynth or soundfont; skipping audio")
        return None
    cmd = [exe, "-ni", "-q", "-F", str(wav), "-r", "44100", str(font), str(midi)]
    result = subprocess.run(cmd, capture_output=True, timeout=300)
    if result.returncode != 0 or not wav.is_file():
        logger.warning("fluidsynth failed (%s): %s", result.returncode, result.stderr[-500:])
        return None
    return wav


def render_scene(spec: SceneSpec, out_dir: Path, audio: bool = True, notes: list[dict] | None = None,
                 extra_truth: dict | None = None) -> dict:
    """Write video.mp4, performance.mid, truth.json and (if fluidsynth is on PATH and audio) audio.wav.

    `notes` (pitch, onset, offset, hand, finger, velocity) replace the spec's piece; `extra_truth`
    is merged into truth.json (an exercise's name and the changes made to it)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scene = Scene(spec, notes)
    video = out_dir / "video.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), spec.fps, (spec.width, spec.height))
    if not writer.isOpened():
        raise RuntimeError(f"cannot open a video writer for {video}")
    frames = []
    try:
        for _, _, img, truth in scene.frames():
            writer.write(img)
            frames.append(truth)
    finally:
        writer.release()
    midi = out_dir / "performance.mid"
    write_midi(scene.notes, spec.tempo, midi)
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps({**scene.truth(frames), **(extra_truth or {})}))
    wav = synthesize(midi, out_dir / "audio.wav") if audio else None
    return {"video": str(video), "midi": str(midi), "truth": str(truth_path),
            "audio": str(wav) if wav else None, "frames": scene.frame_count}

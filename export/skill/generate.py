"""A small rendered stand-in for PISA in PISA's own layout: `pianocam render --exercise` takes whose player
level decides how they are played. NOT PISA's data: a model trained on it learns these rendered cues,
and its accuracy is no skill figure for real players.

How a take of level L (1-10) is played (the level is this function of the playing, nothing else):
tempo 60 + 6·L quarter notes a minute, onsets jittered with a standard deviation of 6·(10 - L) ms,
(10 - L) // 3 wrong notes (a semitone off) and (10 - L) // 4 fingers other than written.
Song level: the exercise's kind (scales 2, arpeggios 3, broken chords 4), recorded, not learned.
Videos are split by whole video: group g = index // len(levels) goes to test when g % 3 == 1.

Usage: python -m pianocam.export.skill.generate --out DIR [--videos 12] [--levels 2,5,8] [--clips 10]
"""
from __future__ import annotations

import argparse
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2

from pianocam.export.skill import layout

EXERCISES = ("scales/c_major", "scales/g_major", "arpeggios/common_c_major", "broken_chords/c_major")
SONG_LEVEL = {"scales": 2, "arpeggios": 3, "broken_chords": 4}
LIGHTINGS = ("studio", "warm", "dim", "uneven")
WIDTH, HEIGHT, FPS = 171, 128, 30.0
STAND_IN = ("rendered stand-in for PISA (pianocam render --exercise takes whose level sets tempo, timing "
            "jitter, wrong notes and finger changes), NOT PISA's videos: accuracy on it is not a skill figure "
            "for real players")


def playing(level: int) -> dict:
    """How a player of this level plays: the documented function the set's labels follow."""
    return {"tempo": 60 + 6 * level, "timing_jitter_ms": 6 * (10 - level), "wrong_notes": (10 - level) // 3,
            "finger_changes": (10 - level) // 4}


def plan(videos: int, levels: list[int], seed: int) -> list[dict]:
    out = []
    for i in range(videos):
        group = i // len(levels)
        exercise = EXERCISES[(group + i) % len(EXERCISES)]
        out.append({"video": i + 1, "player_level": levels[i % len(levels)], "exercise": exercise,
                    "song_level": SONG_LEVEL[exercise.split("/")[0]], "scene_seed": seed * 1000 + i + 1,
                    "lighting": LIGHTINGS[i % len(LIGHTINGS)], "part": "test" if group % 3 == 1 else "train",
                    **playing(levels[i % len(levels)])})
    return out


def render(take: dict, out: Path, passage: int | None) -> Path:
    """The take rendered into a scratch folder (video.mp4, audio.wav, truth.json)."""
    pianocam = str(Path(sys.executable).with_name("pianocam"))
    cmd = [pianocam, "render", "--exercise", take["exercise"], "--hands", "right", "--keys", "61",
           "--width", str(WIDTH), "--height", str(HEIGHT), "--fps", str(FPS), "--seed", str(take["scene_seed"]),
           "--lighting", take["lighting"], "--tempo", str(take["tempo"]), "--wrong-notes", str(take["wrong_notes"]),
           "--finger-changes", str(take["finger_changes"]), "--timing-jitter", str(take["timing_jitter_ms"]),
           "--out", str(out)] + (["--passage", str(passage)] if passage else [])
    run = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if run.returncode:
        raise RuntimeError(f"video {take['video']}: {run.stderr.strip().splitlines()[-1]}")
    if not (out / "audio.wav").is_file():
        raise RuntimeError("pianocam render wrote no audio.wav: fluidsynth and a soundfont are needed")
    return out


def store(scratch: Path, root: Path, video: int) -> int:
    """Frames as videos/<id>/00001.jpg ..., sound as audios/<id>.wav; returns the frame count."""
    folder = root / layout.VIDEOS / str(video)
    folder.mkdir(parents=True, exist_ok=True)
    capture = cv2.VideoCapture(str(scratch / "video.mp4"))
    count = 0
    while True:
        ok, img = capture.read()
        if not ok:
            break
        count += 1
        cv2.imwrite(str(folder / f"{count:05d}.jpg"), img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    capture.release()
    (root / layout.AUDIOS).mkdir(exist_ok=True)
    shutil.copy(scratch / "audio.wav", root / layout.AUDIOS / f"{video}.wav")
    return count


def annotations(takes: list[dict], clips: int) -> dict:
    """(scheme, part) → PISA's table: (video, sample) → frames, framerate, player_level, song_level."""
    tables = {(s, p): {} for s in layout.SCHEMES for p in ("train", "test")}
    for take in takes:
        for scheme, sampler in (("consecutive", layout.consecutive), ("unidist", layout.unidist)):
            for j, frames in enumerate(sampler(take["frames"], clips)):
                tables[scheme, take["part"]][(take["video"], j)] = {
                    "frames": frames, "framerate": FPS, "player_level": take["player_level"],
                    "song_level": take["song_level"]}
    return tables


def generate(root: Path, videos: int, levels: list[int], clips: int, seed: int, passage: int | None) -> dict:
    root = Path(root)
    takes = plan(videos, levels, seed)
    with tempfile.TemporaryDirectory() as tmp:
        for take in takes:
            scratch = render(take, Path(tmp) / str(take["video"]), passage)
            take["changes"] = json.loads((scratch / "truth.json").read_text())["exercise"]["changes"]
            take["frames"] = store(scratch, root, take["video"])
            if take["frames"] < clips * layout.CLIP:
                raise ValueError(f"video {take['video']}: {take['frames']} frames, fewer than one sample of "
                                 f"{clips} clips; use fewer --clips or no --passage")
    (root / layout.ANNOTATIONS).mkdir(parents=True, exist_ok=True)
    for (scheme, part), table in annotations(takes, clips).items():
        with open(layout.annotation_path(root, scheme, part), "wb") as f:
            pickle.dump(table, f)
    manifest = {"what": STAND_IN, "layout": "PISA's release layout as its own loader reads it (export/skill/layout.py)",
                "clips_per_sample": clips, "clip_frames": layout.CLIP, "frame_size": [WIDTH, HEIGHT], "fps": FPS,
                "levels": levels, "level_rule": __doc__.split("\n\n")[1].replace("\n", " "),
                "passage": passage, "seed": seed, "videos": takes}
    (root / "MANIFEST.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (root / "README.md").write_text(f"# A rendered stand-in for PISA\n\n{STAND_IN}.\n\n{manifest['level_rule']}\n\n"
                                    "Made by `python -m pianocam.export.skill.generate`; MANIFEST.json lists "
                                    "every take.\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--videos", type=int, default=12)
    parser.add_argument("--levels", default="2,5,8", help="player levels, cycled over the videos (default 2,5,8)")
    parser.add_argument("--clips", type=int, default=10, help="16-frame clips per sample (default 10, PISA's)")
    parser.add_argument("--passage", type=int, help="only this passage of each exercise (short takes)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    levels = [int(v) for v in args.levels.split(",")]
    if not all(1 <= v <= 10 for v in levels):
        parser.error("--levels: player levels are 1-10")
    try:
        m = generate(args.out, args.videos, levels, args.clips, args.seed, args.passage)
    except (ValueError, RuntimeError) as err:
        print(f"pianocam.export.skill.generate: {err}", file=sys.stderr)
        return 2
    parts = {p: sum(t["part"] == p for t in m["videos"]) for p in ("train", "test")}
    print(f"{args.out}: {len(m['videos'])} videos ({parts['train']} train, {parts['test']} test), "
          f"{sum(t['frames'] for t in m['videos'])} frames; {STAND_IN}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

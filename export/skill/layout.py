"""PISA's release layout: annotation pickles keyed (video, sample), frame folders of JPEGs, one WAV per video.

As PISA's own loader reads it (ParitoshParmar/Piano-Skills-Assessment, Code_Release/Dataloaders):
`Annotations/Annotations_Ready2Use/annotations_{scheme}_{train|test}.pkl` map (video id, sample index)
to {"frames": 160 frame indices (10 clips of 16), "framerate", "player_level", "song_level"};
`videos/<id>/*.jpg` sorted by name are a video's frames; `audios/<id>.wav` its sound. The split is by
whole video (no video in both files), which is what keeps a held-out figure honest.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

CLIP = 16
SCHEMES = ("consecutive", "unidist")
ANNOTATIONS = Path("Annotations") / "Annotations_Ready2Use"
VIDEOS, AUDIOS = "videos", "audios"


def annotation_path(root: Path, scheme: str, part: str) -> Path:
    return Path(root) / ANNOTATIONS / f"annotations_{scheme}_{part}.pkl"


def consecutive(frames: int, clips: int) -> list[np.ndarray]:
    """Samples of `clips` back-to-back 16-frame clips, one after another (PISA's contiguous scheme)."""
    span = clips * CLIP
    return [np.arange(j * span, (j + 1) * span, dtype=np.int64) for j in range(frames // span)]


def unidist(frames: int, clips: int) -> list[np.ndarray]:
    """The same number of samples, each taking every n-th clip across the whole video (PISA's uniformly
    distributed scheme: sample j holds clips j, j + n, j + 2n, ... of the video cut into 16-frame clips)."""
    n = frames // (clips * CLIP)
    return [np.concatenate([np.arange((c * n + j) * CLIP, (c * n + j + 1) * CLIP) for c in range(clips)])
            .astype(np.int64) for j in range(n)]


def read_annotations(root: Path, scheme: str, part: str) -> dict:
    path = annotation_path(root, scheme, part)
    if not path.is_file():
        raise ValueError(f"--data {root}: no {path.relative_to(root)} (PISA's annotation pickles)")
    try:
        with open(path, "rb") as f:
            table = pickle.load(f)
    except (pickle.UnpicklingError, EOFError, AttributeError) as err:
        raise ValueError(f"{path}: not a PISA annotation pickle ({err})") from None
    for key, sample in table.items() if isinstance(table, dict) else [(None, None)]:
        if not (isinstance(key, tuple) and len(key) == 2 and isinstance(sample, dict)
                and {"frames", "framerate", "player_level"} <= set(sample)):
            raise ValueError(f"{path}: entry {key!r} is not (video, sample) → frames, framerate, player_level")
    return table


def check_split(train: dict, test: dict, source: str) -> None:
    """Refuse a split in which a video has samples on both sides."""
    both = sorted({k[0] for k in train} & {k[0] for k in test})
    if both:
        raise ValueError(f"{source}: videos {both[:5]} are in both train and test: their samples would leak")


def frame_files(root: Path, video) -> list[Path]:
    files = sorted((Path(root) / VIDEOS / str(video)).glob("*.jpg"))
    if not files:
        raise ValueError(f"--data {root}: no frames in {VIDEOS}/{video}/ (*.jpg)")
    return files


def audio_file(root: Path, video) -> Path:
    path = Path(root) / AUDIOS / f"{video}.wav"
    if not path.is_file():
        raise ValueError(f"--data {root}: no {AUDIOS}/{video}.wav")
    return path

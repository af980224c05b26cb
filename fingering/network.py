"""Seed 003's network as one more piece of evidence: per note, how likely each fingertip of each hand struck,
from 12-frame clips centred on each fingertip around the onset (cost -log p, added to the distance cost)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from pianocam.calibration.keymap import KeyMap
from pianocam.fingering.crops import FRAMES, SCHEMA, SIZE, normalise
from pianocam.fingering.evidence import SIDES
from pianocam.hands.tracker import Hands
from pianocam.models import shipped
from pianocam.notes import NoteEvent

MODEL = shipped("finger_action", "finger_action.fp32.json")


def load(path: Path = MODEL):
    """The shipped network, refused unless it was trained on these crops."""
    from pianocam.models.runtime import load_model

    return load_model(path, feature_schema=SCHEMA, input_shape=(FRAMES, 3, SIZE, SIZE))


def note_costs(model, video: str, notes: list[NoteEvent], frames: list[Hands], keymap: KeyMap,
               clock_offset: float = 0.0, weight: float = 1.0) -> list[np.ndarray]:
    """(2, 5) cost per note: weight × -log of each fingertip's share of the hand's chance of having struck
    (the network's 1 - p(none) on a clip centred on that fingertip); 0 where a hand is unseen."""
    from pianocam.fingering.crops import cut_clips

    times = np.array([h.t for h in frames])
    wanted = []
    for n, note in enumerate(notes):
        ref = int(np.argmin(np.abs(times - (note.onset - clock_offset))))
        wanted += [(ref, side, finger, 0, n) for side in SIDES if frames[ref].side(side) is not None
                   for finger in range(1, 6)]
    costs = [np.zeros((2, 5)) for _ in notes]
    if not wanted:
        return costs
    clips = cut_clips(video, frames, wanted, keymap)
    struck = np.concatenate([1.0 - model.run(normalise(clips[i:i + 10]))[:, 0] for i in range(0, len(clips), 10)])
    for start in range(0, len(wanted), 5):
        _, side, _, _, n = wanted[start]
        share = np.clip(struck[start:start + 5], 1e-4, None)
        costs[n][SIDES.index(side)] = -weight * np.log(share / share.sum())
    return costs

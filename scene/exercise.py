"""`pianocam render --exercise`: an exercise rendered as played with its book fingering, or with deliberate changes."""
from __future__ import annotations

import json
from pathlib import Path

from pianocam.practice.score import Score
from pianocam.scene import SceneSpec, render_scene
from pianocam.scene.exercise_performance import perform
from pianocam.scene.keyboard import LOWEST_MIDI

TAIL = 0.8  # seconds of video after the last note ends


def render_exercise(score: Score, out: Path, tempo: float | None = None, finger_changes: int = 0,
                    wrong_notes: int = 0, seed: int = 7, keys: int = 61, audio: bool = True,
                    timing_jitter_ms: float = 0.0, **scene) -> dict:
    """Render; truth.json gains `exercise` (name, hands, tempo, the changes), score.json the expected notes."""
    tempo = tempo or score.tempo
    notes, changes = perform(score, tempo, finger_changes, wrong_notes, seed, timing_jitter_ms)
    lowest = LOWEST_MIDI[keys]
    if min(n["pitch"] for n in notes) < lowest or max(n["pitch"] for n in notes) >= lowest + keys:
        raise ValueError(f"{score.name} spans {min(n['pitch'] for n in notes)}-{max(n['pitch'] for n in notes)}, "
                         f"beyond a {keys}-key keyboard; try --keys 88")
    seconds = max(n["offset"] for n in notes) + TAIL
    spec = SceneSpec(seed=seed, keys=keys, seconds=round(seconds, 3), tempo=tempo, **scene)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "score.json").write_text(json.dumps(score.to_dict()))
    truth = {"exercise": {"name": score.name, "title": score.title, "tempo": tempo,
                          "hands": sorted({n.hand for n in score.notes}), "notes": len(score.notes),
                          "timing_jitter_ms": timing_jitter_ms, "changes": changes}}
    written = render_scene(spec, out, audio=audio, notes=notes, extra_truth=truth)
    return {**written, "score": str(out / "score.json"), "changes": changes}

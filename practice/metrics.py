"""Practice metrics from the follower's verdicts: notes, fingering, tempo, evenness, synchrony, and the skill rubric."""
from __future__ import annotations

import numpy as np

from pianocam.practice.follow import Judgement
from pianocam.practice.score import Score

# Tempo is measured over runs of this many consecutive notes of a hand.
TEMPO_NOTES = 6
EVENNESS_NEIGHBOURS = 7   # inter-onset intervals compared with the median of this many around them
SYNC_TOLERANCE = 1e-6     # beats: notes of the two hands this close are meant together

RUBRIC = "pianocam-rubric-1"
# The rubric: each part scored 0-1, weighted, mapped onto 1-10. What raises it: playing the
# written notes, with the written fingers, evenly (inter-onset spread), at a steady tempo, and
# with the hands together when they should be.
RUBRIC_WEIGHTS = {"notes": 0.3, "fingering": 0.3, "evenness": 0.2, "steadiness": 0.1, "synchrony": 0.1}
EVENNESS_ZERO = 0.30      # an inter-onset spread of 30 % scores 0 for evenness
STEADINESS_ZERO = 0.20    # a tempo varying 20 % (coefficient of variation) scores 0
SYNC_ZERO_MS = 120.0      # hands 120 ms apart (median) score 0 for synchrony


def _share(num: int, den: int) -> float | None:
    return num / den if den else None


def _matched(log: list[Judgement]) -> list[Judgement]:
    """Right-pitch notes of the pass that counts: the last attempt at each score note."""
    by_index = {}
    for j in log:
        if j.played is not None and j.expected is not None and j.verdict in ("right", "wrong_finger"):
            by_index[j.expected.index] = j
    return sorted(by_index.values(), key=lambda j: j.played.onset)


def tempo_curve(matched: list[Judgement]) -> list[dict]:
    """Quarter notes per minute through the piece: per hand, a line through onset against beat over each
    run of TEMPO_NOTES consecutive notes (so sixteenths and quarter notes both give a point a bar or so)."""
    curve = []
    for hand in ("left", "right"):
        notes = [j for j in matched if j.expected.hand == hand]
        for k in range(0, len(notes) - 2, TEMPO_NOTES):
            run = notes[k:k + TEMPO_NOTES]
            if len(run) < 3:
                continue
            beats = np.array([j.expected.beat for j in run])
            onsets = np.array([j.played.onset for j in run])
            if np.ptp(beats) <= 0:
                continue
            slope = np.polyfit(beats, onsets, 1)[0]  # seconds per beat
            if slope > 0:
                curve.append({"beat": float(beats.min()), "time": float(onsets.min()), "bpm": 60.0 / slope,
                              "hand": hand})
    return sorted(curve, key=lambda c: (c["beat"], c["hand"]))


def onset_spread(matched: list[Judgement], hand: str) -> float | None:
    """Spread of one hand's inter-onset intervals, per beat, around their local median (0.05 = 5 %)."""
    notes = [j for j in matched if j.expected.hand == hand]
    per_beat = []
    for a, b in zip(notes, notes[1:]):
        beats = b.expected.beat - a.expected.beat
        if beats > 0:
            per_beat.append((b.played.onset - a.played.onset) / beats)
    if len(per_beat) < 3:
        return None
    per_beat = np.array(per_beat)
    half = EVENNESS_NEIGHBOURS // 2
    local = np.array([np.median(per_beat[max(0, i - half):i + half + 1]) for i in range(len(per_beat))])
    return float(np.std(per_beat / local))


def velocity_spread(matched: list[Judgement], hand: str) -> float | None:
    v = [j.played.velocity for j in matched if j.expected.hand == hand]
    return float(np.std(v)) if len(v) >= 3 else None


def synchrony_ms(matched: list[Judgement]) -> dict | None:
    """How far apart the hands land on notes written together: median |gap| and median left-minus-right."""
    left = {}
    for j in matched:
        if j.expected.hand == "left":
            left.setdefault(round(j.expected.beat, 4), j.played.onset)
    gaps = []
    for j in matched:
        if j.expected.hand == "right" and (key := round(j.expected.beat, 4)) in left:
            gaps.append(left.pop(key) - j.played.onset)
    if not gaps:
        return None
    gaps = np.array(gaps) * 1000
    return {"median_abs_ms": float(np.median(np.abs(gaps))), "left_minus_right_ms": float(np.median(gaps)),
            "pairs": len(gaps)}


def per_finger_errors(log: list[Judgement]) -> dict:
    """Per hand, per written finger: how often another finger (or hand) played it."""
    out = {h: {str(f): 0 for f in range(1, 6)} for h in ("left", "right")}
    for j in log:
        if j.verdict == "wrong_finger" and j.expected.finger is not None:
            out[j.expected.hand][str(j.expected.finger)] += 1
    return out


def skill(summary: dict) -> dict:
    """The rubric score 1-10 from the metrics, with its parts (named as a rubric, not a learned model)."""
    parts = {"notes": summary["right_notes"],
             "fingering": summary["fingering_as_written"]}
    spreads = [v for v in summary["onset_spread"].values() if v is not None]
    parts["evenness"] = max(0.0, 1 - float(np.mean(spreads)) / EVENNESS_ZERO) if spreads else None
    cv = summary["tempo"]["variation"]
    parts["steadiness"] = max(0.0, 1 - cv / STEADINESS_ZERO) if cv is not None else None
    sync = summary["synchrony"]
    parts["synchrony"] = max(0.0, 1 - sync["median_abs_ms"] / SYNC_ZERO_MS) if sync else None
    used = {k: v for k, v in parts.items() if v is not None}
    if not used:
        return {"rubric": RUBRIC, "score": None, "parts": parts}
    weight = sum(RUBRIC_WEIGHTS[k] for k in used)
    value = sum(RUBRIC_WEIGHTS[k] * v for k, v in used.items()) / weight
    return {"rubric": RUBRIC, "score": round(1 + 9 * value, 1), "parts": parts,
            "weights": {k: RUBRIC_WEIGHTS[k] for k in used}}


def summarize(score: Score, log: list[Judgement], not_reached: int = 0, restarts: int = 0,
              target_tempo: float | None = None) -> dict:
    """The session's numbers: the `summary` line of `pianocam practice` and the live `report`."""
    matched = _matched(log)
    counts = {v: 0 for v in ("right", "wrong_note", "wrong_finger", "extra", "missed")}
    for j in log:
        if not j.corrected:
            counts[j.verdict] += 1
    checked = [j for j in matched if j.finger_checked]
    as_written = sum(j.verdict == "right" for j in checked)
    reached = len(score.notes) - not_reached
    curve = tempo_curve(matched)
    bpms = np.array([c["bpm"] for c in curve])
    played = [j.played.onset for j in log if j.played is not None]
    summary = {
        "exercise": score.name, "title": score.title, "expected_notes": len(score.notes), "reached": reached,
        "not_reached": not_reached, "played_notes": len(played), "restarts": restarts, "counts": counts,
        "right_notes": _share(len(matched), reached),
        "fingering_as_written": _share(as_written, len(checked)), "fingers_checked": len(checked),
        "per_finger_errors": per_finger_errors(log),
        "tempo": {"bpm": float(np.median(bpms)) if len(bpms) else None,
                  "variation": float(np.std(bpms) / np.mean(bpms)) if len(bpms) >= 2 else None,
                  "target": target_tempo, "curve": curve},
        "onset_spread": {h: onset_spread(matched, h) for h in ("left", "right")},
        "velocity_spread": {h: velocity_spread(matched, h) for h in ("left", "right")},
        "synchrony": synchrony_ms(matched),
        "seconds": (max(played) - min(played)) if len(played) >= 2 else 0.0,
        "passages": [],
    }
    for p in sorted({n.passage for n in score.notes}):
        mine = [j for j in matched if j.expected.passage == p]
        if not mine:
            continue
        ok = [j for j in mine if j.finger_checked]
        total = sum(n.passage == p for n in score.notes)
        name = score.passages[p - 1] if p - 1 < len(score.passages) else f"passage {p}"
        pc = tempo_curve(mine)
        summary["passages"].append({"passage": p, "name": name, "right_notes": len(mine) / total,
                                    "fingering_as_written": _share(sum(j.verdict == "right" for j in ok), len(ok)),
                                    "bpm": float(np.median([c["bpm"] for c in pc])) if pc else None})
    summary["skill"] = skill(summary)
    return summary

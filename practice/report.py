"""The picture a teacher shows a student: notes in score order coloured by verdict, tempo curve, per-finger errors."""
from __future__ import annotations

import html
import json
from pathlib import Path

COLOURS = {"right": "#2e9d4f", "wrong_finger": "#f0a020", "wrong_note": "#d7342a", "missed": "#9a9a9a",
           "extra": "#7a4fc9"}
LABELS = {"right": "right", "wrong_finger": "wrong finger", "wrong_note": "wrong note", "missed": "missed",
          "extra": "extra"}


def _figure(score, lines: list[dict], summary: dict):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 8.5), dpi=100)
    grid = fig.add_gridspec(3, 2, height_ratios=[2.2, 1, 1], hspace=0.55, wspace=0.22)
    ax = fig.add_subplot(grid[0, :])
    # Score notes along beats, pitch up: coloured by verdict, written finger on each, the played one beside it.
    by_index = {}
    for line in lines:
        e = line.get("expected")
        if e is not None and (line["verdict"] != "right" or e["index"] not in by_index):
            by_index[e["index"]] = line
    for note in score.notes:
        line = by_index.get(note.index)
        verdict = line["verdict"] if line else "missed" if summary["not_reached"] == 0 else None
        colour = COLOURS.get(verdict, "#dddddd")
        ax.add_patch(plt.Rectangle((note.beat, note.pitch - 0.4), max(note.duration * 0.9, 0.12), 0.8,
                                   color=colour, ec="none"))
        label = str(note.finger or "")
        if line and line["verdict"] == "wrong_finger":
            label = f"{note.finger}\u2192{line.get('finger') or '?'}"
        if line and line["verdict"] == "wrong_note":
            label = f"{note.finger or ''} {line['name']}"
        ax.text(note.beat + 0.02, note.pitch + 0.55, label, fontsize=6.5, color="#333333")
    bars = sorted({(n.bar, n.beat) for n in score.notes if n.hand == score.notes[0].hand}, key=lambda b: b[1])
    seen = set()
    for bar, beat in bars:
        if bar not in seen:
            seen.add(bar)
            ax.axvline(beat, color="#cccccc", lw=0.6, zorder=0)
    pitches = [n.pitch for n in score.notes]
    ax.set_xlim(-0.2, score.beats + 0.2)
    ax.set_ylim(min(pitches) - 2, max(pitches) + 3)
    ax.set_xlabel("beat (quarter notes)")
    ax.set_ylabel("MIDI pitch")
    counts = summary["counts"]
    ax.set_title(f"{score.title}: {counts['right']} right, {counts['wrong_finger']} wrong finger, "
                 f"{counts['wrong_note']} wrong note, {counts['missed']} missed, {counts['extra']} extra "
                 f"(written finger on each note; written\u2192played where they differ)", fontsize=10)
    handles = [plt.Rectangle((0, 0), 1, 1, color=c) for c in COLOURS.values()]
    ax.legend(handles, LABELS.values(), loc="upper right", fontsize=8, ncol=5)

    ax = fig.add_subplot(grid[1, 0])
    curve = summary["tempo"]["curve"]
    if curve:
        bpms = [c["bpm"] for c in curve]
        for hand, colour in (("left", "#5a8fd0"), ("right", "#d07a5a")):
            mine = [c for c in curve if c["hand"] == hand]
            if mine:
                ax.plot([c["beat"] for c in mine], [c["bpm"] for c in mine], "o-", color=colour, label=f"{hand} hand")
        ax.legend(fontsize=8)
        if summary["tempo"]["target"]:
            ax.axhline(summary["tempo"]["target"], color="#888888", ls="--", lw=1, label="asked for")
            ax.legend(fontsize=8)
            bpms = bpms + [summary["tempo"]["target"]]
        ax.set_ylim(min(bpms) - max(5.0, 0.1 * min(bpms)), max(bpms) + max(5.0, 0.1 * max(bpms)))
        ax.ticklabel_format(axis="y", useOffset=False)
    ax.set_xlabel("beat")
    ax.set_ylabel("quarter notes / min")
    ax.set_title(f"tempo {summary['tempo']['bpm'] or 0:.0f} bpm, varies "
                 f"{(summary['tempo']['variation'] or 0) * 100:.0f} %", fontsize=10)

    ax = fig.add_subplot(grid[1, 1])
    errors = summary["per_finger_errors"]
    fingers = range(1, 6)
    width = 0.38
    for k, (hand, colour) in enumerate((("left", "#5a8fd0"), ("right", "#d07a5a"))):
        ax.bar([f + (k - 0.5) * width for f in fingers], [errors[hand][str(f)] for f in fingers], width,
               color=colour, label=f"{hand} hand")
    ax.set_ylim(0, max([1] + [v for h in errors.values() for v in h.values()]) + 0.5)
    ax.set_xticks(list(fingers))
    ax.set_xlabel("written finger")
    ax.set_ylabel("played with another")
    ax.legend(fontsize=8)
    ax.set_title("wrong fingers, by the finger the book asks for", fontsize=10)

    ax = fig.add_subplot(grid[2, :])
    ax.axis("off")
    s = summary
    spread = ", ".join(f"{h} {v * 100:.0f} %" for h, v in s["onset_spread"].items() if v is not None) or "-"
    velo = ", ".join(f"{h} \u00b1{v:.0f}" for h, v in s["velocity_spread"].items() if v is not None) or "-"
    sync = "-"
    if s["synchrony"]:
        sync = (f"{s['synchrony']['median_abs_ms']:.0f} ms apart "
                f"(left minus right {s['synchrony']['left_minus_right_ms']:+.0f})")
    sk = s["skill"]
    rows = [f"right notes {_pct(s['right_notes'])}    fingering as written {_pct(s['fingering_as_written'])} "
            f"({s['fingers_checked']} notes checked)    restarts {s['restarts']}    not reached {s['not_reached']}",
            f"evenness (inter-onset spread) {spread}    velocity spread {velo}    hands together: {sync}",
            f"skill {sk['score']} / 10 by {sk['rubric']} (a rubric over these numbers, not a learned model)"]
    for p in s["passages"]:
        rows.append(f"  {p['name']}: right notes {_pct(p['right_notes'])}, fingering as written "
                    f"{_pct(p['fingering_as_written'])}, {p['bpm'] or 0:.0f} bpm")
    ax.text(0, 1, "\n".join(rows), va="top", fontsize=10, family="monospace")
    return fig


def _pct(value) -> str:
    return "-" if value is None else f"{value * 100:.0f} %"


def write_report(path: str | Path, score, lines: list[dict], summary: dict) -> Path:
    """A PNG (or, for .html, a page with the PNG inlined and the summary as a table)."""
    import base64
    import io

    path = Path(path)
    fig = _figure(score, lines, summary)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    if path.suffix.lower() in (".html", ".htm"):
        image = base64.b64encode(buffer.getvalue()).decode()
        page = (f"<!doctype html><meta charset=utf-8><title>{html.escape(score.title)}</title>"
                f"<h1>{html.escape(score.title)}</h1><img alt='practice report' src='data:image/png;base64,{image}'>"
                f"<pre>{html.escape(json.dumps(summary, indent=1))}</pre>")
        path.write_text(page)
    else:
        path.write_bytes(buffer.getvalue())
    return path

"""`pianocam profile`: latency, size and memory of every shipped model and backend, and the pipeline per stage, beside the papers.

Each artifact is profiled in a fresh child process (so its peak memory is its own), through the
unit's loader: warm-up runs, then the median and p95 of single-sample runs per thread count. The
pipeline runs on a rendered scene with the real hand tracker and the shipped technique model.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from pianocam.models import shipped
from pianocam.models.runtime import machine

logger = logging.getLogger(__name__)

DEFAULT_MODELS = shipped()

# The papers' timing rows. Seed 003 times its whole network per inference (Table 3) and per frame
# (Table 1); seed 000 reports accuracy only, so its row has no time to compare against.
PAPER_ROWS = (
    {"paper": "003 Table 3", "model": "finger_action", "platform": "NVIDIA RTX 4060", "ms": 216.0},
    {"paper": "003 Table 3", "model": "finger_action", "platform": "Intel i7 (CPU)", "ms": 678.0},
    {"paper": "003 Table 3", "model": "finger_action", "platform": "Raspberry Pi 4", "ms": 1428.0},
    {"paper": "003 §5.3", "model": "finger_action", "platform": "Jetson Nano (per frame)", "ms": 310.0},
    {"paper": "003 Table 1", "model": "finger_action", "platform": "dual-attention model, per frame", "ms": 38.0},
    {"paper": "003 Table 1", "model": "finger_action-base", "platform": "attention-free dual path, per frame",
     "ms": 37.0},
    {"paper": "003 §5.3", "model": "finger_action", "platform": "model size, MB (ONNX-compressed < 80)", "mb": 150.0},
    {"paper": "000", "model": "technique", "platform": "no timing reported", "ms": None},
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--models", default=str(DEFAULT_MODELS), metavar="DIR",
                   help="folder of model folders with manifests (default: the shipped models/)")
    p.add_argument("--threads", default="1,2,4", help="thread counts to time (default 1,2,4)")
    p.add_argument("--runs", type=int, default=50, help="timed runs per model and thread count (default 50)")
    p.add_argument("--pipeline-seconds", type=float, default=6.0,
                   help="rendered-scene seconds for the pipeline stages; 0 skips them (default 6)")
    p.add_argument("--json", action="store_true", help="print one JSON document instead of tables")
    p.add_argument("--chart", metavar="PNG", help="also draw latency and size against the papers into this PNG")


def manifests(models_dir: Path) -> list[Path]:
    """Every model manifest under models_dir (JSON files that name an artifact)."""
    found = []
    for path in sorted(models_dir.glob("*/*.json")):
        try:
            if "artifact" in json.loads(path.read_text()):
                found.append(path)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
    return found


def profile_artifact(manifest_path: str, threads: list[int], runs: int) -> dict:
    """In a child process: load through the unit's loader, time single-sample runs, report peak memory."""
    import resource
    import time

    import numpy as np

    from pianocam.models.runtime import load_model

    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rows = []
    for t in threads:
        model = load_model(manifest_path, threads=t)
        rng = np.random.default_rng(0)
        sample = {s["name"]: rng.normal(size=(1, *s["shape"][1:])).astype(np.float32) for s in model.inputs}
        for _ in range(5):
            model.run(sample)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            model.run(sample)
            times.append((time.perf_counter() - started) * 1e3)
        rows.append({"threads": t, "median_ms": float(np.median(times)), "p95_ms": float(np.percentile(times, 95))})
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    m = model.manifest
    return {"model": m["model"], "format": model.format, "precision": m.get("precision"),
            "backend": model.backend.name, "artifact": model.path.name, "bytes": model.path.stat().st_size,
            "trained": bool(m.get("trained", True)), "peak_rss_mb": peak_kb / 1024,
            "model_rss_mb": (peak_kb - baseline_kb) / 1024, "latency": rows}


def profile_models(models_dir: Path, threads: list[int], runs: int) -> list[dict]:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    rows = []
    for path in manifests(models_dir):
        with context.Pool(1) as pool:
            try:
                rows.append(pool.apply(profile_artifact, (str(path), threads, runs)))
            except Exception as err:  # a refused or broken model is a row, not the end of the profile
                rows.append({"model": path.stem, "artifact": path.name, "error": str(err)})
    return rows


def profile_pipeline(seconds: float, models_dir: Path) -> dict:
    """The unit's pipeline on a rendered scene (unpaced): per-stage median and p95 in ms, and fps."""

    import numpy as np

    from pianocam.hands.tracker import HandTracker
    from pianocam.scene import SceneSpec
    from pianocam.scene.source import SceneSource
    from pianocam.unit.pipeline import Pipeline, run_to_end

    technique = None
    try:
        from pianocam.technique.estimator import TechniqueEstimator

        technique = TechniqueEstimator(models_dir / "technique")
    except Exception as err:  # the stage still runs (empty) without a technique model
        logger.warning("pipeline profile without the technique stage: %s", err)
    spec = SceneSpec(seed=7, keys=61, seconds=seconds)
    source = SceneSource(spec, realtime=False)
    tracker = HandTracker(model_complexity=0)
    emitted = []
    pipeline = Pipeline(source, tracker, lambda kind, body: emitted.append(kind) or 0, metrics_interval=60.0,
                        publish_hands=True, technique=technique)
    progress, elapsed = run_to_end(pipeline)
    stages = {}
    for stage in ("capture_wait", "track", "fingering", "technique", "publish", "total"):
        s = pipeline.timer.samples(stage)
        if s:
            stages[stage] = {"median_ms": float(np.median(s)), "p95_ms": float(np.percentile(s, 95)), "n": len(s)}
    return {"scene": f"seed 7, 61 keys, {seconds:g} s at {spec.width}x{spec.height}, unpaced",
            "frames": progress.frames, "fps": progress.frames / elapsed if elapsed else 0.0,
            "technique_estimates": emitted.count("technique"), "stages": stages}


def compare(rows: list[dict]) -> list[dict]:
    """The papers' rows beside ours: the one-thread median of the matching model's fastest artifact."""
    out = []
    for paper in PAPER_ROWS:
        ours = [r for r in rows if r.get("model") == paper["model"] and "latency" in r]
        best = min(ours, key=lambda r: r["latency"][0]["median_ms"], default=None)
        row = dict(paper)
        if best is not None:
            row["ours_artifact"] = best["artifact"]
            if "mb" in paper:
                smallest = min(ours, key=lambda r: r["bytes"])
                row.update(ours_artifact=smallest["artifact"], ours_mb=smallest["bytes"] / 1e6,
                           ratio=paper["mb"] / (smallest["bytes"] / 1e6))
            else:
                row["ours_ms"] = best["latency"][0]["median_ms"]
                row["ours_threads"] = best["latency"][0]["threads"]
                row["ratio"] = paper["ms"] / row["ours_ms"] if paper["ms"] else None
        out.append(row)
    return out


def format_tables(report: dict) -> str:
    lines = ["| model | artifact | backend | KB | peak RSS MB | " +
             " | ".join(f"{t} thr median/p95 ms" for t in report["threads"]) + " |",
             "|---|---|---|---:|---:|" + "---:|" * len(report["threads"])]
    for r in report["models"]:
        if "error" in r:
            lines.append(f"| {r['model']} | {r['artifact']} | refused: {r['error']} |")
            continue
        cells = " | ".join(f"{x['median_ms']:.3f} / {x['p95_ms']:.3f}" for x in r["latency"])
        lines.append(f"| {r['model']}{'' if r['trained'] else ' (untrained)'} | {r['artifact']} | {r['backend']} "
                     f"| {r['bytes'] / 1024:.1f} | {r['peak_rss_mb']:.0f} | {cells} |")
    lines += ["", "| paper | model | platform | paper | ours (1 thread, this machine) | paper ÷ ours |",
              "|---|---|---|---:|---:|---:|"]
    for c in report["papers"]:
        if "mb" in c:
            paper, ours = f"{c['mb']:g} MB", (f"{c['ours_mb']:.3f} MB ({c['ours_artifact']})" if "ours_mb" in c else "")
        else:
            paper = "" if c["ms"] is None else f"{c['ms']:g} ms"
            ours = f"{c['ours_ms']:.3f} ms ({c['ours_artifact']})" if "ours_ms" in c else ""
        ratio = f"{c['ratio']:,.0f}×" if c.get("ratio") else "n/a"
        lines.append(f"| {c['paper']} | {c['model']} | {c['platform']} | {paper} | {ours} | {ratio} |")
    p = report.get("pipeline")
    if p:
        lines += ["", f"pipeline: {p['scene']}; {p['frames']} frames, {p['fps']:.1f} fps, "
                      f"{p['technique_estimates']} technique estimates",
                  "| stage | median ms | p95 ms |", "|---|---:|---:|"]
        lines += [f"| {s} | {v['median_ms']:.2f} | {v['p95_ms']:.2f} |" for s, v in p["stages"].items()]
    return "\n".join(lines)


def draw_chart(report: dict, path: Path) -> Path:
    """Three panels: one-thread latency per artifact against the papers (log scale), sizes, pipeline stages."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in report["models"] if "latency" in r]
    fig, axes = plt.subplots(1, 3, figsize=(17, 6.5), gridspec_kw={"width_ratios": [3, 2, 2]})
    ax = axes[0]
    labels = [r["artifact"] for r in rows] + [f"{c['paper']}: {c['platform']}" for c in report["papers"]
                                               if c.get("ms")]
    values = [r["latency"][0]["median_ms"] for r in rows] + [c["ms"] for c in report["papers"] if c.get("ms")]
    colours = ["tab:blue" if r["format"] == "onnx" else "tab:green" for r in rows] + \
              ["tab:red"] * (len(values) - len(rows))
    ax.barh(range(len(values)), values, color=colours)
    ax.set_yticks(range(len(values)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("median latency per inference, ms (log scale)")
    ax.set_title("ours, 1 thread (blue ONNX, green TFLite)\nvs the papers (red)", fontsize=10)
    for i, v in enumerate(values):
        ax.text(v, i, f" {v:.3g}", va="center", fontsize=7)
    ax = axes[1]
    ax.barh(range(len(rows)), [r["bytes"] / 1024 for r in rows], color=colours[:len(rows)])
    ax.set_yticks(range(len(rows)), [r["artifact"] for r in rows], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("artifact size, KB")
    ax.set_title("size (seed 003: 150 MB model, < 80 MB compressed)", fontsize=10)
    for i, r in enumerate(rows):
        ax.text(r["bytes"] / 1024, i, f" {r['bytes'] / 1024:.0f}", va="center", fontsize=7)
    ax = axes[2]
    p = report.get("pipeline")
    if p:
        stages = [s for s in p["stages"] if s != "total"]
        ax.bar(stages, [p["stages"][s]["median_ms"] for s in stages], color="tab:purple", label="median")
        ax.scatter(stages, [p["stages"][s]["p95_ms"] for s in stages], color="black", marker="_", s=300,
                   label="p95", zorder=3)
        ax.set_ylabel("ms per frame")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
        ax.legend(fontsize=8)
        ax.set_title(f"pipeline per stage ({p['fps']:.0f} fps, total median "
                     f"{p['stages'].get('total', {}).get('median_ms', 0):.1f} ms)", fontsize=10)
    else:
        ax.axis("off")
    fig.suptitle(f"pianocam profile — {report['machine']}", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def run(args: argparse.Namespace) -> int:
    try:
        threads = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        print(f"pianocam profile: --threads {args.threads!r}: comma-separated integers", file=sys.stderr)
        return 2
    models_dir = Path(args.models)
    if not manifests(models_dir):
        print(f"pianocam profile: no model manifests under {models_dir}", file=sys.stderr)
        return 2
    rows = profile_models(models_dir, threads, args.runs)
    report = {"machine": machine(), "threads": threads, "runs": args.runs, "models": rows,
              "papers": compare(rows),
              "pipeline": profile_pipeline(args.pipeline_seconds, models_dir) if args.pipeline_seconds > 0 else None}
    if args.chart:
        report["chart"] = str(draw_chart(report, Path(args.chart)))
    print(json.dumps(report, indent=2) if args.json else format_tables(report))
    return 0 if all("error" not in r for r in rows) else 1

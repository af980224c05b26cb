"""`pianocam profile` on the shipped models: a row for every model × backend, the pipeline stages, a real PNG."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pianocam.commands.profile import manifests

MODELS = Path(__file__).resolve().parents[2] / "models"


@pytest.fixture(scope="module")
def profiled(tmp_path_factory):
    chart = tmp_path_factory.mktemp("profile") / "profile.png"
    done = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "profile", "--json", "--threads", "1,2",
                           "--runs", "5", "--pipeline-seconds", "2", "--chart", str(chart)],
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout), chart


def test_every_shipped_model_and_backend_has_a_row(profiled):
    report, _ = profiled
    expected = {p.name for p in manifests(MODELS)}
    assert len(expected) >= 6   # technique fp32/int8 × ONNX/TFLite, finger_action fp32 × ONNX/TFLite
    rows = report["models"]
    assert {r["artifact"] for r in rows} == {json.loads(p.read_text())["artifact"] for p in manifests(MODELS)}
    assert {(r["model"], r["format"]) for r in rows} >= {(m, f) for m in ("technique", "finger_action")
                                                         for f in ("onnx", "tflite")}
    for r in rows:
        assert [x["threads"] for x in r["latency"]] == [1, 2]
        assert all(0 < x["median_ms"] <= x["p95_ms"] for x in r["latency"])
        assert r["bytes"] > 0 and r["peak_rss_mb"] > 10


def test_pipeline_stages_and_paper_rows(profiled):
    report, _ = profiled
    stages = report["pipeline"]["stages"]
    assert {"track", "technique", "publish", "total"} <= set(stages)
    assert stages["total"]["median_ms"] >= stages["track"]["median_ms"] > 0
    table3 = [c for c in report["papers"] if c["paper"] == "003 Table 3"]
    assert {c["platform"] for c in table3} == {"NVIDIA RTX 4060", "Intel i7 (CPU)", "Raspberry Pi 4"}
    i7 = next(c for c in table3 if c["platform"].startswith("Intel"))
    assert i7["ratio"] == pytest.approx(678.0 / i7["ours_ms"])


def test_chart_is_a_png_a_person_can_read(profiled):
    _, chart = profiled
    import matplotlib.image

    image = matplotlib.image.imread(chart)
    assert image.shape[0] >= 500 and image.shape[1] >= 1200
    assert image[..., :3].std() > 0.1   # not a blank canvas


def test_a_refused_model_is_a_row_not_a_crash(tmp_path):
    from pianocam.commands.profile import profile_models

    folder = tmp_path / "technique"
    folder.mkdir()
    for name in ("technique.int8.json", "technique.int8.onnx"):
        shutil.copy(MODELS / "technique" / name, folder / name)
    (folder / "technique.int8.onnx").write_bytes(b"not a model")
    rows = profile_models(tmp_path, [1], 2)
    assert len(rows) == 1 and "sha256 mismatch" in rows[0]["error"]

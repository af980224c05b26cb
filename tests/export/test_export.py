"""The export stage with real torch, onnxruntime and LiteRT: architectures, pruning, every format, parity, refusals."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from pianocam.export.networks import finger_action as fa
from pianocam.export.networks import pisa
from pianocam.export.pruning import parameter_count, prune
from pianocam.models.runtime import ONNX_METADATA_KEY, load_model, manifest_path

ROOT = Path(__file__).resolve().parents[2]


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "export", *args], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)


@pytest.mark.parametrize("variant", list(fa.VARIANTS))
def test_finger_action_variants_have_the_papers_shapes(variant):
    torch.manual_seed(0)
    model = fa.build(variant).eval()
    x = torch.rand(2, 12, 3, 128, 128)
    assert model(x).shape == (2, len(fa.LABELS))
    assert model.gru1.hidden_size == 64 and model.gru2.hidden_size == 32 and model.fc1.out_features == 96
    assert (model.sam is not None, model.seam is not None) == fa.VARIANTS[variant]
    wide = fa.build(variant, "wide")
    assert (wide.conv1.out_channels, wide.conv2.out_channels, wide.gru1.hidden_size) == (24, 48, 60)


def test_pruning_removes_channels_and_keeps_the_network_whole():
    torch.manual_seed(0)
    model = fa.build("both").eval()
    before = parameter_count(model)
    prune(model, 0.3)
    assert (model.conv1.out_channels, model.conv2.out_channels, model.fc1.out_features) == (11, 22, 67)
    assert model.gru1.input_size == 22 and parameter_count(model) < before
    assert model(torch.rand(1, 12, 3, 128, 128)).shape == (1, 6)


def test_pisa_is_the_papers_network():
    model = pisa.build()
    assert [c.out_channels for c in model.video.convs] == [64, 128, 256, 256, 256]
    assert model.audio.stem[0].in_channels == 1 and model.audio.features == 512
    assert model.video_fc.out_features == model.audio_fc.out_features == model.fusion_fc.out_features == 128
    resnet18 = parameter_count(model.audio)
    assert 11.1e6 < resnet18 < 11.2e6          # torchvision's resnet18 body with a 1-channel stem: 11.17 M
    small = pisa.build(width=0.125).eval()
    with torch.no_grad():
        video, audio, fused = small(torch.rand(2, 1, 3, 16, 112, 112), torch.rand(2, 1, 1, 224, 224))
    assert video.shape == audio.shape == fused.shape == (2, 10)
    prune(small, 0.5)
    with torch.no_grad():
        assert small(torch.rand(1, 2, 3, 16, 112, 112), torch.rand(1, 2, 1, 224, 224))[2].shape == (1, 10)
    # The multimodal head reads detached features: no gradient reaches the backbones through it.
    clips, mels = torch.rand(1, 1, 3, 16, 112, 112), torch.rand(1, 1, 1, 224, 224)
    small(clips, mels)[2].sum().backward()
    assert small.video.convs[0].weight.grad is None and small.fusion_fc.weight.grad is not None


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("finger_action")
    done = export("finger_action-seam", "--formats", "onnx,tflite", "--int8", "--calib-count", "32",
                  "--val-count", "4", "--out", str(out))
    assert done.returncode == 0, done.stderr[-3000:]
    return out, done.stdout


@pytest.mark.parametrize("precision,fmt", [("fp32", "onnx"), ("int8", "onnx"), ("fp32", "tflite"), ("int8", "tflite")])
def test_every_format_is_written_with_parity_and_loads_on_the_unit(exported, precision, fmt):
    out, table = exported
    path = manifest_path(out, "finger_action-seam", precision, fmt)
    manifest = json.loads(path.read_text())
    assert manifest["parity"]["ok"] and manifest["parity"]["samples"] == 4
    assert manifest["parity"]["top1_agreement"] >= 0.9
    assert manifest["parity"]["max_abs_diff"] <= (1e-3 if precision == "fp32" else 0.2)
    assert manifest["trained"] is False and manifest["export"]["seconds"] >= 0
    assert manifest["architecture"]["temporal_attention"] and not manifest["architecture"]["spatial_attention"]
    model = load_model(path, feature_schema="fingertip-crops-v2/12x128", input_shape=(12, 3, 128, 128))
    assert model.run(np.zeros((1, 12, 3, 128, 128), np.float32)).shape == (1, 6)
    assert manifest["artifact"] in table
    if fmt == "onnx":
        embedded = {p.key: p.value for p in onnx.load(str(out / manifest["artifact"])).metadata_props}
        inside = json.loads(embedded[ONNX_METADATA_KEY])
        assert inside["model"] == "finger_action-seam" and inside["parity"] == manifest["parity"]
    if precision == "int8":
        assert "representative" in manifest["export"]["calibration"]


def test_too_small_calibration_set_is_refused(tmp_path):
    calib = tmp_path / "calib"
    calib.mkdir()
    np.savez(calib / "few.npz", features=np.zeros((8, 189, 1, 1), np.float32))
    done = export("technique", "--formats", "onnx-int8", "--calib", str(calib), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "at least 32 samples, got 8" in done.stderr


def test_options_a_format_does_not_take_are_refused_by_name(tmp_path):
    done = export("technique", "--formats", "onnx", "--calib", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "--calib is not an option of onnx" in done.stderr
    done = export("technique", "--formats", "onnx,coreml", "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "unknown format coreml" in done.stderr


def test_pruned_technique_is_fine_tuned_and_smaller(tmp_path, shared_data):
    done = export("technique", "--formats", "onnx", "--int8", "--prune", "0.3", "--epochs", "5",
                  "--data", str(shared_data / "seed000-landmarks"), "--out", str(tmp_path))
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((tmp_path / "technique.int8.json").read_text())
    pruning = manifest["pruning"]
    assert pruning["parameters_after"] < 0.75 * pruning["parameters_before"] and pruning["fine_tune"]["epochs"] == 5
    graph = onnx.load(str(tmp_path / "technique.fp32.onnx")).graph
    hidden = {i.name: list(i.dims) for i in graph.initializer}["model.net.1.weight"]
    assert hidden[0] == 45                      # 64 hidden units, 30 % removed
    assert "accuracy_delta" in manifest["parity"]["outputs"]["probabilities"]
    assert manifest["features"]["schema"] == json.loads(
        (ROOT / "models" / "technique" / "technique.fp32.json").read_text())["features"]["schema"]


def test_parity_worse_than_the_threshold_fails_the_export(tmp_path, shared_data):
    done = export("technique", "--formats", "onnx", "--parity", "fp32=0:1", "--data",
                  str(shared_data / "seed000-landmarks"), "--out", str(tmp_path))
    assert done.returncode == 1 and "parity worse than the thresholds" in done.stderr
    assert json.loads((tmp_path / "technique.fp32.json").read_text())["parity"]["ok"] is False

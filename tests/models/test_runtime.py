"""The unit's ONNX loader on the shipped technique model: real sessions, and every mismatch refused by name."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pianocam.models.runtime import ManifestError, load_model, load_onnx_model, manifest_path, sha256_of
from pianocam.technique.features import FEATURISERS

MODELS = Path(__file__).resolve().parents[2] / "models"
MODEL_DIR = MODELS / "technique"


def _manifest(precision: str) -> dict:
    return json.loads((MODEL_DIR / f"technique.{precision}.json").read_text())


def _featuriser(precision: str = "int8"):
    return FEATURISERS[_manifest(precision)["features"]["featuriser"]]


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_shipped_model_loads_and_runs(precision):
    f = _featuriser(precision)
    model = load_onnx_model(MODEL_DIR / f"technique.{precision}.json", f.schema, f.shape)
    batch = np.random.default_rng(0).normal(size=(3, *f.shape)).astype(np.float32)
    probabilities = model.run(batch)
    assert probabilities.shape == (3, len(model.manifest["labels"]))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=1e-3)
    assert model.manifest["sha256"] == sha256_of(model.path)


def _copy(tmp_path: Path, precision: str = "int8") -> Path:
    for name in (f"technique.{precision}.json", f"technique.{precision}.onnx"):
        shutil.copy(MODEL_DIR / name, tmp_path / name)
    return tmp_path / f"technique.{precision}.json"


def test_replaced_artifact_is_refused(tmp_path):
    manifest = _copy(tmp_path)
    shutil.copy(MODEL_DIR / "technique.fp32.onnx", tmp_path / "technique.int8.onnx")
    with pytest.raises(ManifestError, match="sha256 mismatch"):
        load_onnx_model(manifest)


def test_other_feature_schema_is_refused(tmp_path):
    f = _featuriser()
    with pytest.raises(ManifestError, match="feature-schema mismatch.*landmark-flow-v0"):
        load_onnx_model(_copy(tmp_path), "landmark-flow-v0", f.shape)


def test_other_input_shape_is_refused(tmp_path):
    f = _featuriser()
    with pytest.raises(ManifestError, match="input-shape mismatch"):
        load_onnx_model(_copy(tmp_path), f.schema, (5, 1, 190))


def test_manifest_that_lies_about_the_graph_is_refused(tmp_path):
    path = _copy(tmp_path)
    manifest = json.loads(path.read_text())
    manifest["input"]["shape"] = [None, 7, 1, 3]
    manifest["inputs"] = [manifest["input"]]
    path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="input mismatch: graph has"):
        load_onnx_model(path)


def test_missing_manifest_is_refused(tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        load_onnx_model(tmp_path / "technique.int8.json")


# Every shipped artifact, both backends: the unit's one interface.
# (finger_action ships fp32 only: its int8 artifacts failed parity, and a failed artifact is not shipped.)
SHIPPED = [(name, precision, fmt) for name in ("technique", "finger_action") for precision in ("fp32", "int8")
           for fmt in ("onnx", "tflite") if (name, precision) != ("finger_action", "int8")]


def _sample(model, batch: int = 1) -> dict:
    rng = np.random.default_rng(1)
    return {s["name"]: rng.normal(size=(batch, *s["shape"][1:])).astype(np.float32) for s in model.inputs}


@pytest.mark.parametrize("name,precision,fmt", SHIPPED)
def test_every_shipped_artifact_loads_through_one_interface(name, precision, fmt):
    model = load_model(manifest_path(MODELS / name, name, precision, fmt))
    assert model.format == fmt and model.backend.name in (("onnxruntime",) if fmt == "onnx" else ("litert", "tflite-runtime"))
    probabilities = model.run(_sample(model, 2))   # TFLite graphs are batch 1: the backend runs row by row
    assert probabilities.shape == (2, len(model.manifest["labels"]))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1, atol=0.02)
    assert model.manifest["parity"]["ok"] and model.manifest["sha256"] == sha256_of(model.path)


@pytest.mark.parametrize("name", ["technique", "finger_action"])
def test_onnx_and_tflite_agree_on_the_same_input(name):
    onnx_model = load_model(manifest_path(MODELS / name, name, "fp32", "onnx"))
    tflite_model = load_model(manifest_path(MODELS / name, name, "fp32", "tflite"))
    x = _sample(onnx_model, 3)
    np.testing.assert_allclose(onnx_model.run(x), tflite_model.run(x), atol=1e-5)


def test_finger_action_manifest_says_trained_and_meets_the_issue_budget():
    manifest = json.loads(manifest_path(MODELS / "finger_action", "finger_action", "fp32").read_text())
    assert manifest["trained"] is True and manifest["metrics"]["held_out_rendered"]["notes"] > 0
    assert manifest["bytes"] <= 1_000_000
    assert manifest["inputs"][0]["shape"] == [None, 12, 3, 128, 128]


def _copy_any(tmp_path: Path, name: str, precision: str, fmt: str) -> Path:
    source = manifest_path(MODELS / name, name, precision, fmt)
    manifest = json.loads(source.read_text())
    shutil.copy(source, tmp_path / source.name)
    shutil.copy(source.parent / manifest["artifact"], tmp_path / manifest["artifact"])
    return tmp_path / source.name


@pytest.mark.parametrize("fmt,engine", [("onnx", "onnxruntime"), ("tflite", "LiteRT")])
def test_corrupted_artifact_with_matching_sha_is_refused(tmp_path, fmt, engine):
    # Someone "fixed" the manifest's sha256 after the file was damaged: the loader still refuses it.
    path = _copy_any(tmp_path, "finger_action", "fp32", fmt)
    manifest = json.loads(path.read_text())
    artifact = tmp_path / manifest["artifact"]
    data = bytearray(artifact.read_bytes())
    artifact.write_bytes(bytes(data[: len(data) // 3]))
    manifest["sha256"] = sha256_of(artifact)
    path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match=f"{engine} cannot load it.*corrupted"):
        load_model(path)


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_flipped_byte_is_a_sha256_mismatch(tmp_path, fmt):
    path = _copy_any(tmp_path, "finger_action", "fp32", fmt)
    artifact = tmp_path / json.loads(path.read_text())["artifact"]
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    with pytest.raises(ManifestError, match="sha256 mismatch"):
        load_model(path)


@pytest.mark.parametrize("fmt", ["onnx", "tflite"])
def test_finger_action_of_another_crop_size_is_refused(tmp_path, fmt):
    path = _copy_any(tmp_path, "finger_action", "fp32", fmt)
    with pytest.raises(ManifestError, match=r"input-shape mismatch.*\[12, 3, 128, 128\].*\[12, 3, 96, 96\]"):
        load_model(path, input_shape=(12, 3, 96, 96))
    with pytest.raises(ManifestError, match="feature-schema mismatch.*fingertip-crops-v0"):
        load_model(path, feature_schema="fingertip-crops-v0")


def test_json_that_disagrees_with_the_embedded_manifest_is_refused(tmp_path):
    path = _copy_any(tmp_path, "finger_action", "fp32", "onnx")
    manifest = json.loads(path.read_text())
    manifest["features"]["schema"] = "fingertip-crops-v3/12x128"   # edited by hand, graph unchanged
    path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="embedded-manifest mismatch.*fingertip-crops-v2"):
        load_model(path)


def test_tflite_manifest_is_not_an_onnx_model(tmp_path):
    with pytest.raises(ManifestError, match="expected an ONNX model"):
        load_onnx_model(_copy_any(tmp_path, "technique", "int8", "tflite"))


def test_onnx_graph_with_a_gru_runs_any_batch():
    model = load_model(manifest_path(MODELS / "finger_action", "finger_action", "fp32"))
    x = _sample(model, 3)
    together = model.run(x)
    apart = np.concatenate([model.run({k: v[i:i + 1] for k, v in x.items()}) for i in range(3)])
    np.testing.assert_allclose(together, apart, atol=1e-5)


def test_execution_provider_falls_back_to_the_cpu_and_says_so(caplog):
    # The pip onnxruntime has only the CPU: asking for CUDA or TensorRT runs on it, with one warning.
    import onnxruntime as ort

    from pianocam.models import runtime

    assert runtime.onnx_providers("cpu") == ["CPUExecutionProvider"]
    has = set(ort.get_available_providers())
    with caplog.at_level("WARNING"):
        chosen = runtime.onnx_providers("tensorrt")
    assert chosen[-1] == "CPUExecutionProvider" and set(chosen) <= has
    if "TensorrtExecutionProvider" not in has:
        assert "no TensorrtExecutionProvider" in caplog.text
    with pytest.raises(ValueError, match="execution_provider"):
        runtime.set_execution_provider("gpu")

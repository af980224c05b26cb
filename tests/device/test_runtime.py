"""The unit's ONNX loader on the shipped technique model: real sessions, and every mismatch refused by name."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pianocam.device.features import FEATURISERS
from pianocam.device.runtime import ManifestError, load_onnx_model, sha256_of

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "technique"


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
    path.write_text(json.dumps(manifest))
    with pytest.raises(ManifestError, match="input mismatch: graph has"):
        load_onnx_model(path)


def test_missing_manifest_is_refused(tmp_path):
    with pytest.raises(ManifestError, match="not found"):
        load_onnx_model(tmp_path / "technique.int8.json")

"""The torch side of the technique model: the paper's shapes, video-grouped folds, ONNX and int8 parity."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from pianocam.export.technique.data import BLOCK, group_folds, load_technique_data
from pianocam.export.technique.models import SingleBranchCNN, TwoBranchCNN, build_model
from pianocam.export.technique.onnx_export import export_fp32, onnx_probabilities, quantize_int8
from pianocam.export.technique.train import VARIANTS, cross_validate, featurise, train_variant


@pytest.fixture(scope="module")
def data(shared_data):
    return load_technique_data(shared_data / "seed000-landmarks")


def test_two_branch_has_the_papers_feature_maps():
    model = TwoBranchCNN().eval()
    x = torch.zeros(4, 5, 1, 150)
    assert model.fine(x).shape == (4, 16, 1, 75) and model.broad(x).shape == (4, 16, 1, 75)
    assert model(x).shape == (4, 2)
    assert SingleBranchCNN().eval()(x).shape == (4, 2)
    assert build_model("mlp", (189, 1, 1))(torch.zeros(4, 189, 1, 1)).shape == (4, 2)


def test_data_is_read_as_the_issue_describes(data):
    assert data.sequences.shape == (217, 20, 21, 3)
    assert (data.labels == 0).sum() == 117 and (data.labels == 1).sum() == 100
    # A recording group is a union of whole blocks.
    for g in np.unique(data.recordings):
        members = np.unique(data.blocks[data.recordings == g])
        assert np.array_equal(np.sort(np.flatnonzero(np.isin(data.blocks, members))),
                              np.flatnonzero(data.recordings == g))


@pytest.mark.parametrize("grouping", ["blocks", "recordings"])
def test_folds_never_split_a_group(data, grouping):
    groups = getattr(data, grouping)
    folds = group_folds(groups, data.labels, 5, seed=0)
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(groups)))
    for g in np.unique(groups):
        assert sum(np.isin(f, np.flatnonzero(groups == g)).any() for f in folds) == 1
    assert all(len(np.unique(data.blocks[f])) * BLOCK >= len(f) for f in folds)
    again = group_folds(groups, data.labels, 5, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(folds, again))   # fixed seed, same folds


def test_cross_validation_is_reproducible_and_learns(data):
    variant = replace(next(v for v in VARIANTS if v.name == "mlp-motion-stats"), epochs=15)  # fast enough to run twice
    first = cross_validate(variant, data, data.blocks, 5, seed=0)
    second = cross_validate(variant, data, data.blocks, 5, seed=0)
    assert first["pooled"] == second["pooled"]
    assert first["pooled"]["accuracy"] > 0.6   # chance is 0.54 (117 of 217 are beginners)
    assert np.sum(first["pooled"]["confusion"]) == 217


def test_onnx_fp32_matches_torch_and_int8_stays_close(data, tmp_path):
    variant = replace(next(v for v in VARIANTS if v.name == "two-branch"), epochs=3)
    index = np.arange(0, len(data.labels), 2)
    fitted = train_variant(variant, data, index, seed=0)
    x = fitted.standardise(featurise(data.sequences, variant.features))
    with torch.no_grad():
        expected = torch.softmax(fitted.models[0](torch.from_numpy(x)), dim=1).numpy()
    fp32 = export_fp32(fitted.models[0], x.shape[1:], tmp_path / "t.fp32.onnx")
    np.testing.assert_allclose(onnx_probabilities(fp32, x), expected, atol=1e-4)
    int8 = quantize_int8(fp32, tmp_path / "t.int8.onnx", x[index])
    q = onnx_probabilities(int8, x)
    assert np.abs(q - expected).max() < 0.15
    assert (q.argmax(1) == expected.argmax(1)).mean() > 0.9
    with pytest.raises(ValueError, match="calibration"):
        quantize_int8(fp32, tmp_path / "small.onnx", x[:10])

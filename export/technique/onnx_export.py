"""ONNX export of a technique model, static int8 quantisation, and the manifest the unit checks."""
from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

from pianocam.models.runtime import sha256_of

logger = logging.getLogger(__name__)

INPUT_NAME, OUTPUT_NAME = "features", "probabilities"
MIN_CALIBRATION = 64   # windows; fewer gives activation ranges that do not hold on the unit


class WithSoftmax(nn.Module):
    """The classifier with softmax inside the graph, so the unit reads probabilities directly."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)


def export_fp32(model: nn.Module, shape: tuple, path: Path) -> Path:
    """Write an fp32 ONNX graph with a dynamic batch axis (legacy exporter, opset 17)."""
    started = time.perf_counter()
    example = torch.zeros((2, *shape), dtype=torch.float32)
    torch.onnx.export(WithSoftmax(model).eval(), (example,), str(path), dynamo=False, opset_version=17,
                      input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                      dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}})
    logger.info("exported %s (%d bytes) in %.1f s", path.name, path.stat().st_size, time.perf_counter() - started)
    return path


def quantize_int8(fp32_path: Path, int8_path: Path, calibration: np.ndarray) -> Path:
    """Static QDQ int8: per-channel int8 weights, uint8 activations, ranges from training windows."""
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    if len(calibration) < MIN_CALIBRATION:
        raise ValueError(f"int8 calibration needs at least {MIN_CALIBRATION} windows, got {len(calibration)}")

    class Windows(CalibrationDataReader):
        def __init__(self):
            self._batches = iter([{INPUT_NAME: calibration[i:i + 1]} for i in range(len(calibration))])

        def get_next(self):
            return next(self._batches, None)

    import onnx

    # The softmax stays fp32: quantised, its uint8 output has steps of 1/255 and stops summing to one.
    softmax = [n.name for n in onnx.load(str(fp32_path)).graph.node if n.op_type == "Softmax"]
    started = time.perf_counter()
    quantize_static(str(fp32_path), str(int8_path), Windows(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=softmax)
    logger.info("quantised %s (%d bytes) in %.1f s", int8_path.name, int8_path.stat().st_size,
                time.perf_counter() - started)
    return int8_path


def onnx_probabilities(path: Path, x: np.ndarray) -> np.ndarray:
    """Run an exported graph on a batch with onnxruntime (one thread, as on the unit)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session.run(None, {INPUT_NAME: np.ascontiguousarray(x, dtype=np.float32)})[0]


def write_manifest(artifact: Path, precision: str, shape: tuple, featuriser, labels, mean, std, extra: dict) -> Path:
    """technique.<precision>.json beside the artifact: what the unit's loader checks before running it."""
    manifest = {
        "model": "technique",
        "version": extra.pop("version", "1"),
        "precision": precision,
        "artifact": artifact.name,
        "sha256": sha256_of(artifact),
        "bytes": artifact.stat().st_size,
        "input": {"name": INPUT_NAME, "shape": [None, *map(int, shape)], "dtype": "float32"},
        "output": {"name": OUTPUT_NAME, "shape": [None, len(labels)], "meaning": "softmax over labels"},
        "features": {"featuriser": featuriser.name, "schema": featuriser.schema, "window": 20,
                     "coordinates": "landmarks of one hand; any isotropic units (pixels on the unit, "
                                    "0..1 in the seed-000 CSVs): the featuriser normalises position, "
                                    "scale, rotation and handedness"},
        "labels": list(labels),
        "normalisation": {"kind": "z-score per channel", "mean": [float(v) for v in np.ravel(mean)],
                          "std": [float(v) for v in np.ravel(std)]},
        **extra,
    }
    path = artifact.with_suffix(".json")
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path

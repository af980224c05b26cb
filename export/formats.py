"""The export formats: one table of what each writes and which options it takes; heavy imports inside each writer."""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from torch import nn

from pianocam.export.networks import ModelSpec, as_batches

logger = logging.getLogger(__name__)

MIN_CALIBRATION = 32   # samples; fewer gives activation ranges that do not hold on the unit


class WithSoftmax(nn.Module):
    """The network with softmax on every output inside the graph, so the unit reads probabilities."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, *x):
        out = self.model(*x)
        if isinstance(out, tuple):
            return tuple(torch.softmax(o, dim=1) for o in out)
        return torch.softmax(out, dim=1)


@dataclass(frozen=True)
class Format:
    key: str             # what --formats names
    suffix: str
    precision: str
    options: frozenset   # the command's options this writer honours
    write: Callable      # (model, spec, path, calibration) → path


def _example(spec: ModelSpec, batch: int) -> tuple:
    return tuple(torch.zeros((batch, *shape)) for shape in spec.inputs.values())


def onnx_fp32(model: nn.Module, spec: ModelSpec, path: Path, calibration=None) -> Path:
    """Legacy exporter, opset 17, dynamic batch axis (the dynamo exporter needs more care with GRUs)."""
    names = list(spec.inputs)
    axes = {n: {0: "batch"} for n in [*names, *spec.outputs]}
    # GRUs in the legacy exporter carry the example's batch into their initial state; batch 1 is what the unit runs.
    torch.onnx.export(WithSoftmax(model).eval(), _example(spec, 1), str(path), dynamo=False, opset_version=17,
                      input_names=names, output_names=list(spec.outputs), dynamic_axes=axes)
    return path


def onnx_int8(model: nn.Module, spec: ModelSpec, path: Path, calibration: dict) -> Path:
    """Static QDQ int8 of the fp32 graph: per-channel int8 weights, uint8 activations, softmax kept in fp32."""
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    check_calibration(calibration)
    fp32 = path.with_name(path.name.replace(".int8.", ".fp32-for-int8."))
    onnx_fp32(model, spec, fp32)

    class Reader(CalibrationDataReader):
        def __init__(self):
            self._batches = as_batches(calibration)

        def get_next(self):
            return next(self._batches, None)

    # Quantised, a softmax's uint8 output has steps of 1/255 and stops summing to one.
    softmax = [n.name for n in onnx.load(str(fp32)).graph.node if n.op_type == "Softmax"]
    try:
        quantize_static(str(fp32), str(path), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, nodes_to_exclude=softmax)
    finally:
        fp32.unlink(missing_ok=True)
    return path


def tflite_fp32(model: nn.Module, spec: ModelSpec, path: Path, calibration=None) -> Path:
    """litert-torch conversion at batch 1 (TFLite graphs have fixed shapes; the unit runs one sample)."""
    import litert_torch

    litert_torch.convert(WithSoftmax(model).eval(), _example(spec, 1)).export(str(path))
    return path


def tflite_int8(model: nn.Module, spec: ModelSpec, path: Path, calibration: dict) -> Path:
    """ai-edge-quantizer static int8 (weights and activations) of the fp32 TFLite; litert-torch's own
    static path crashes on GRUs."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    check_calibration(calibration)
    fp32 = path.with_name(path.name.replace(".int8.", ".fp32-for-int8."))
    tflite_fp32(model, spec, fp32)
    try:
        signature = Interpreter(model_path=str(fp32)).get_signature_list()
        key = next(iter(signature))
        graph_names = signature[key]["inputs"]   # args_0, args_1, … in the order of spec.inputs
        samples = [{g: b[n] for g, n in zip(graph_names, spec.inputs)} for b in as_batches(calibration)]
        qt = quantizer.Quantizer(str(fp32), recipe.static_wi8_ai8())
        result = qt.calibrate({key: samples}, num_threads=1)
        qt.quantize(result, enable_progress_report=False).export_model(str(path), overwrite=True)
    finally:
        fp32.unlink(missing_ok=True)
    return path


def check_calibration(calibration: dict | None) -> None:
    n = 0 if not calibration else len(next(iter(calibration.values())))
    if n < MIN_CALIBRATION:
        raise ValueError(f"int8 calibration needs at least {MIN_CALIBRATION} samples, got {n}: activation ranges "
                         f"from so few do not hold on the unit (give --calib DIR with more, or --calib-count)")


# key: (suffix, precision, options it honours, writer). --int8 adds the int8 rows of each named format.
FORMATS = {
    "onnx": Format("onnx", ".onnx", "fp32", frozenset({"prune", "data"}), onnx_fp32),
    "onnx-int8": Format("onnx-int8", ".onnx", "int8", frozenset({"prune", "data", "calib"}), onnx_int8),
    "tflite": Format("tflite", ".tflite", "fp32", frozenset({"prune", "data"}), tflite_fp32),
    "tflite-int8": Format("tflite-int8", ".tflite", "int8", frozenset({"prune", "data", "calib"}), tflite_int8),
}


def artifact_name(name: str, fmt: Format) -> str:
    return f"{name}.{fmt.precision}{fmt.suffix}"


def write(fmt: Format, model: nn.Module, spec: ModelSpec, out: Path, calibration: dict | None) -> tuple[Path, float]:
    """Write one artifact; returns its path and the seconds it took."""
    path = out / artifact_name(spec.name, fmt)
    started = time.perf_counter()
    fmt.write(model, spec, path, calibration)
    seconds = time.perf_counter() - started
    logger.info("%-12s %s: %d bytes in %.1f s", fmt.key, path.name, path.stat().st_size, seconds)
    return path, seconds


def torch_outputs(model: nn.Module, inputs: dict[str, np.ndarray], batch: int = 8) -> list[np.ndarray]:
    """The reference: softmax outputs of the torch model, batch by batch."""
    wrapped, chunks = WithSoftmax(model).eval(), []
    with torch.no_grad():
        for b in as_batches(inputs, batch):
            out = wrapped(*[torch.from_numpy(v) for v in b.values()])
            chunks.append([o.numpy() for o in (out if isinstance(out, tuple) else (out,))])
    return [np.concatenate([c[i] for c in chunks]) for i in range(len(chunks[0]))]

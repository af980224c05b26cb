"""Models on the unit: one loader for ONNX (onnxruntime) and TFLite (LiteRT) that checks the artifact against its manifest.

A manifest (JSON beside the artifact) names the artifact, its sha256, its inputs, the feature
schema it was trained on and its labels; the loader refuses any mismatch by name before a session
is built, so a replaced file or a model trained on other features never runs. The format comes
from the manifest (`format`, else the artifact's suffix); both backends sit behind `Model.run`.
"""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

FORMATS = {".onnx": "onnx", ".tflite": "tflite"}
ONNX_METADATA_KEY = "pianocam.manifest"
# Keys of the embedded ONNX copy that must agree with the JSON beside the artifact.
EMBEDDED_CHECKS = ("model", "version", "precision", "inputs", "labels")


class ManifestError(RuntimeError):
    """A model whose artifact or manifest does not match what the unit expects; the message names the mismatch."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path(model_dir: str | Path, name: str, precision: str = "int8", fmt: str = "onnx") -> Path:
    """Where a shipped model's manifest lies: NAME.PRECISION.json (ONNX) or NAME.PRECISION.tflite.json."""
    return Path(model_dir) / (f"{name}.{precision}.json" if fmt == "onnx" else f"{name}.{precision}.{fmt}.json")


def input_specs(manifest: dict) -> list[dict]:
    """The manifest's inputs as a list; manifests of one input may give it as `input`."""
    if "inputs" in manifest:
        return list(manifest["inputs"])
    return [manifest["input"]]


def _same_shape(declared: list, actual: list) -> bool:
    # Dynamic axes are names or None in the graph and null in the manifest; the rest must match.
    if len(declared) != len(actual):
        return False
    return all(d is None or not isinstance(a, int) or a < 0 or d == a for d, a in zip(declared, actual))


def _quantise(x: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    if detail["dtype"] == np.float32 or not scale:
        return x.astype(detail["dtype"])
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale + zero), info.min, info.max).astype(detail["dtype"])


def _dequantise(y: np.ndarray, detail: dict) -> np.ndarray:
    scale, zero = detail["quantization"]
    if y.dtype == np.float32 or not scale:
        return y.astype(np.float32)
    return (y.astype(np.float32) - zero) * scale


# execution_provider: which onnxruntime providers the models ask for, best first. The CPU always comes last,
# so a provider this onnxruntime lacks (the pip wheel has only the CPU; JetPack's onnxruntime-gpu has CUDA and
# TensorRT) falls back to it, logged once.
PROVIDERS = {"cpu": ["CPUExecutionProvider"],
             "cuda": ["CUDAExecutionProvider", "CPUExecutionProvider"],
             "tensorrt": ["TensorrtExecutionProvider", "CUDAExecutionProvider", "CPUExecutionProvider"]}
PROVIDERS["auto"] = PROVIDERS["tensorrt"]
_provider = "cpu"
_warned: set = set()


def set_execution_provider(name: str) -> None:
    """The unit's config.execution_provider, for every model loaded after it."""
    global _provider
    if name not in PROVIDERS:
        raise ValueError(f"execution_provider must be one of {sorted(PROVIDERS)}, not {name!r}")
    _provider = name


def onnx_providers(name: str | None = None) -> list[str]:
    """The providers to ask onnxruntime for: those of the setting this onnxruntime has."""
    import onnxruntime as ort

    name = name or _provider
    available = set(ort.get_available_providers())
    chosen = [p for p in PROVIDERS[name] if p in available]
    missing = [p for p in PROVIDERS[name] if p not in available]
    if missing and name not in ("cpu", "auto") and name not in _warned:
        _warned.add(name)
        logger.warning("execution_provider %s: this onnxruntime has no %s (it has %s); the models run on %s",
                       name, ", ".join(missing), ", ".join(sorted(available)), chosen[0])
    return chosen


class OnnxBackend:
    """onnxruntime on the configured execution provider (CPU fallback); intra-op threads as asked, one inter-op."""

    name = "onnxruntime"

    def __init__(self, path: Path, threads: int):
        import onnxruntime as ort  # the unit only pays for onnxruntime when a model is configured

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=onnx_providers())
        except Exception as err:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise ManifestError(f"{path.name}: onnxruntime cannot load it ({type(err).__name__}: "
                                f"{str(err).splitlines()[0][:200]}); the artifact is corrupted or not ONNX") from err
        self.inputs = [(i.name, list(i.shape)) for i in self.session.get_inputs()]
        self.outputs = [o.name for o in self.session.get_outputs()]

    def metadata(self) -> dict:
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def run(self, feeds: dict) -> list[np.ndarray]:
        return self.session.run(None, feeds)


class LiteRtBackend:
    """A TFLite interpreter: ai-edge-litert, or tflite-runtime where that is what the unit has.

    The graph's batch axis is fixed (1 for pianocam's exports), so a larger batch runs row by row;
    int8 inputs and outputs are quantised and dequantised here, so callers always see float32.
    """

    name = "litert"

    def __init__(self, path: Path, threads: int):
        try:
            from ai_edge_litert.interpreter import Interpreter
        except ImportError:
            try:
                from tflite_runtime.interpreter import Interpreter
                self.name = "tflite-runtime"
            except ImportError as err:
                raise ManifestError(f"{path.name}: a TFLite model needs ai-edge-litert (or tflite-runtime), "
                                    f"which this environment lacks") from err
        try:
            self.interpreter = Interpreter(model_path=str(path), num_threads=threads)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as err:
            raise ManifestError(f"{path.name}: LiteRT cannot load it ({str(err).splitlines()[0][:200]}); "
                                f"the artifact is corrupted or not TFLite") from err
        signature = self.interpreter.get_signature_list()
        key = next(iter(signature))
        self.runner = self.interpreter.get_signature_runner(key)
        details = self.runner.get_input_details()
        self._input_details = {n: details[n] for n in signature[key]["inputs"]}
        self._output_details = self.runner.get_output_details()
        self.outputs = list(signature[key]["outputs"])
        self.inputs = [(n, [int(v) for v in d["shape"]]) for n, d in self._input_details.items()]
        self._graph_names = None

    def metadata(self) -> dict:
        return {}

    def bind(self, manifest_inputs: list[dict]) -> None:
        """TFLite signatures name inputs args_0, args_1, … in the order the manifest lists them."""
        self._graph_names = {spec["name"]: graph for spec, (graph, _) in zip(manifest_inputs, self.inputs)}

    def run(self, feeds: dict) -> list[np.ndarray]:
        n = len(next(iter(feeds.values())))
        rows = []
        for i in range(n):
            args = {self._graph_names[k]: _quantise(v[i:i + 1], self._input_details[self._graph_names[k]])
                    for k, v in feeds.items()}
            out = self.runner(**args)
            rows.append([_dequantise(out[name], self._output_details[name]) for name in self.outputs])
        return [np.concatenate([r[j] for r in rows]) for j in range(len(self.outputs))]


BACKENDS = {"onnx": OnnxBackend, "tflite": LiteRtBackend}


@dataclass
class Model:
    """A loaded, checked model; run() takes float32 batches and returns the first output as float32."""

    manifest: dict
    path: Path
    backend: object
    inputs: list = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.manifest.get("format") or FORMATS[self.path.suffix]

    @property
    def input_name(self) -> str:
        return self.inputs[0]["name"]

    @property
    def input_shape(self) -> tuple:
        return tuple(self.inputs[0]["shape"])

    def _feeds(self, batch) -> dict:
        if not isinstance(batch, dict):
            batch = {self.input_name: batch}
        feeds = {}
        for spec in self.inputs:
            if spec["name"] not in batch:
                raise ValueError(f"{self.path.name}: no input {spec['name']!r}")
            x = np.ascontiguousarray(batch[spec["name"]], dtype=np.float32)
            if not _same_shape(spec["shape"][1:], list(x.shape[1:])):
                raise ValueError(f"{self.path.name}: input {spec['name']} {x.shape[1:]} != manifest "
                                 f"{tuple(spec['shape'][1:])}")
            feeds[spec["name"]] = x
        return feeds

    def run(self, batch) -> np.ndarray:
        return self.backend.run(self._feeds(batch))[0]

    def run_all(self, batch) -> dict[str, np.ndarray]:
        """Every output by the manifest's output names (the graph's order)."""
        names = [o["name"] for o in self.manifest.get("outputs", [])] or self.backend.outputs
        return dict(zip(names, self.backend.run(self._feeds(batch))))




def read_manifest(manifest_path: str | Path) -> dict:
    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise ManifestError(f"model manifest {manifest_path} not found")
    try:
        manifest = json.loads(manifest_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ManifestError(f"{manifest_path.name}: manifest is not JSON ({err})") from err
    if not isinstance(manifest, dict):
        raise ManifestError(f"{manifest_path.name}: manifest is a JSON {type(manifest).__name__}, not an object")
    for key in ("artifact", "sha256", "features", "labels"):
        if key not in manifest:
            raise ManifestError(f"{manifest_path.name}: manifest has no {key!r}")
    if "input" not in manifest and "inputs" not in manifest:
        raise ManifestError(f"{manifest_path.name}: manifest has no 'inputs'")
    return manifest


def load_model(manifest_path: str | Path, feature_schema: str | None = None, input_shape: tuple | None = None,
               threads: int = 1) -> Model:
    """Load the artifact a manifest names, refusing it when its sha256, input spec or feature schema differ.

    feature_schema and input_shape (without the batch axis; of the first input) are what the caller's
    featuriser produces: a model trained on other features would run and return confident nonsense.
    """
    manifest_path = Path(manifest_path)
    manifest = read_manifest(manifest_path)
    path = manifest_path.parent / manifest["artifact"]
    if not path.is_file():
        raise ManifestError(f"{manifest_path.name}: artifact {path.name} not found beside it")
    fmt = manifest.get("format") or FORMATS.get(path.suffix)
    if fmt not in BACKENDS:
        raise ManifestError(f"{path.name}: unknown model format {fmt!r}; this unit runs {sorted(BACKENDS)}")
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise ManifestError(f"{path.name}: sha256 mismatch: file is {actual[:16]}…, manifest says "
                            f"{manifest['sha256'][:16]}… (artifact replaced or corrupted)")
    schema = manifest["features"].get("schema")
    if feature_schema is not None and schema != feature_schema:
        raise ManifestError(f"{path.name}: feature-schema mismatch: model was trained on "
                            f"{schema!r}, this unit computes {feature_schema!r}")
    declared = input_specs(manifest)
    if input_shape is not None and tuple(declared[0]["shape"][1:]) != tuple(input_shape):
        raise ManifestError(f"{path.name}: input-shape mismatch: manifest declares {declared[0]['shape'][1:]}, "
                            f"the unit's config makes {list(input_shape)}")
    for spec in declared:
        if spec.get("dtype", "float32") != "float32":
            raise ManifestError(f"{path.name}: input {spec['name']} dtype {spec['dtype']!r} is not float32")
    backend = BACKENDS[fmt](path, threads)
    _check_graph(path, manifest, declared, backend)
    where = f" on {backend.session.get_providers()[0]}" if isinstance(backend, OnnxBackend) else ""
    logger.info("loaded %s (%s %s via %s%s, %d bytes, schema %s)", path.name, fmt, manifest.get("precision"),
                backend.name, where, path.stat().st_size, schema)
    return Model(manifest, path, backend, declared)


def _check_graph(path: Path, manifest: dict, declared: list[dict], backend) -> None:
    """The graph's own inputs (and, for ONNX, its embedded manifest) must say what the JSON says."""
    if len(backend.inputs) != len(declared):
        raise ManifestError(f"{path.name}: input mismatch: graph has {len(backend.inputs)} inputs, "
                            f"manifest declares {len(declared)}")
    if isinstance(backend, LiteRtBackend):
        backend.bind(declared)
    for spec, (name, shape) in zip(declared, backend.inputs):
        if (isinstance(backend, OnnxBackend) and name != spec["name"]) or not _same_shape(spec["shape"], shape):
            raise ManifestError(f"{path.name}: input mismatch: graph has {name!r} {shape}, "
                                f"manifest declares {spec['name']!r} {spec['shape']}")
    embedded = backend.metadata().get(ONNX_METADATA_KEY)
    if embedded:
        inside = json.loads(embedded)
        if "input" in inside or "inputs" in inside:
            inside["inputs"] = input_specs(inside)
        outside = dict(manifest, inputs=declared)
        for key in EMBEDDED_CHECKS:
            if key in inside and inside[key] != outside.get(key):
                raise ManifestError(f"{path.name}: embedded-manifest mismatch: the graph says {key}="
                                    f"{inside[key]!r}, the JSON beside it says {outside.get(key)!r}")
        if inside.get("features", {}).get("schema") != manifest["features"].get("schema"):
            raise ManifestError(f"{path.name}: embedded-manifest mismatch: the graph was exported for feature schema "
                                f"{inside.get('features', {}).get('schema')!r}, the JSON beside it says "
                                f"{manifest['features'].get('schema')!r}")


def load_onnx_model(manifest_path: str | Path, feature_schema: str | None = None,
                    input_shape: tuple | None = None, threads: int = 1) -> Model:
    """The technique stage's entry point: load_model for a manifest that names an ONNX artifact."""
    model = load_model(manifest_path, feature_schema, input_shape, threads)
    if model.format != "onnx":
        raise ManifestError(f"{model.path.name}: expected an ONNX model, the manifest names {model.format}")
    return model


def machine() -> str:
    """The CPU model and architecture, as the papers name their platforms."""
    import os
    import platform

    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        model = ""
    return f"{model or platform.processor()} ({platform.machine()}, {os.cpu_count()} CPUs)"

"""ONNX models on the unit: one loader that checks the artifact against its manifest before anything runs."""
from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class ManifestError(RuntimeError):
    """A model whose artifact or manifest does not match what the unit expects; the message names the mismatch."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _same_shape(declared: list, actual: list) -> bool:
    # The batch axis is dynamic (a name or None in the graph, null in the manifest); the rest must match.
    if len(declared) != len(actual):
        return False
    return all(d is None or not isinstance(a, int) or d == a for d, a in zip(declared, actual))


@dataclass
class OnnxModel:
    """An onnxruntime session with its manifest; run() takes a float32 batch and returns the first output."""

    manifest: dict
    path: Path
    session: object

    @property
    def input_name(self) -> str:
        return self.manifest["input"]["name"]

    @property
    def input_shape(self) -> tuple:
        return tuple(self.manifest["input"]["shape"])

    def run(self, batch: np.ndarray) -> np.ndarray:
        batch = np.ascontiguousarray(batch, dtype=np.float32)
        if batch.shape[1:] != self.input_shape[1:]:
            raise ValueError(f"{self.path.name}: input {batch.shape[1:]} != manifest {self.input_shape[1:]}")
        return self.session.run(None, {self.input_name: batch})[0]


def load_onnx_model(manifest_path: str | Path, feature_schema: str | None = None,
                    input_shape: tuple | None = None, threads: int = 1) -> OnnxModel:
    """Load the artifact a manifest names, refusing it when its sha256, input spec or feature schema differ.

    feature_schema and input_shape (without the batch axis) are what the caller's featuriser
    produces; a model trained on other features would run and return confident nonsense.
    """
    import onnxruntime as ort  # the unit only pays for onnxruntime when a model is configured

    manifest_path = Path(manifest_path)
    if not manifest_path.is_file():
        raise ManifestError(f"model manifest {manifest_path} not found")
    manifest = json.loads(manifest_path.read_text())
    for key in ("artifact", "sha256", "input", "features", "labels"):
        if key not in manifest:
            raise ManifestError(f"{manifest_path.name}: manifest has no {key!r}")
    path = manifest_path.parent / manifest["artifact"]
    if not path.is_file():
        raise ManifestError(f"{manifest_path.name}: artifact {path.name} not found beside it")
    actual = sha256_of(path)
    if actual != manifest["sha256"]:
        raise ManifestError(f"{path.name}: sha256 mismatch: file is {actual[:16]}…, manifest says "
                            f"{manifest['sha256'][:16]}… (artifact replaced or corrupted)")
    declared = manifest["input"]
    if feature_schema is not None and manifest["features"].get("schema") != feature_schema:
        raise ManifestError(f"{path.name}: feature-schema mismatch: model was trained on "
                            f"{manifest['features'].get('schema')!r}, this unit computes {feature_schema!r}")
    if input_shape is not None and tuple(declared["shape"][1:]) != tuple(input_shape):
        raise ManifestError(f"{path.name}: input-shape mismatch: manifest declares {declared['shape'][1:]}, "
                            f"the featuriser makes {list(input_shape)}")
    if declared.get("dtype", "float32") != "float32":
        raise ManifestError(f"{path.name}: input dtype {declared['dtype']!r} is not float32")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    graph_input = session.get_inputs()[0]
    if graph_input.name != declared["name"] or not _same_shape(declared["shape"], graph_input.shape):
        raise ManifestError(f"{path.name}: input mismatch: graph has {graph_input.name!r} {graph_input.shape}, "
                            f"manifest declares {declared['name']!r} {declared['shape']}")
    logger.info("loaded %s (%s, %d bytes, schema %s)", path.name, manifest.get("precision"), path.stat().st_size,
                manifest["features"].get("schema"))
    return OnnxModel(manifest, path, session)

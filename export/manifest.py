"""Model manifests: the JSON beside each artifact, its copy inside ONNX metadata, and calibration folders."""
from __future__ import annotations

import json
from importlib import metadata
from pathlib import Path

import numpy as np

from pianocam.models.runtime import ONNX_METADATA_KEY, manifest_path, sha256_of

# Fields left out of the copy embedded in an ONNX graph: they describe the file the copy changes.
NOT_EMBEDDED = ("sha256", "bytes", "artifact")


def build(spec, fmt, path: Path, args, carried: dict, pruning: dict | None, export: dict, version: str,
          manifest_version: int) -> dict:
    inputs = [{"name": n, "shape": [None if fmt.suffix == ".onnx" else 1, *map(int, s)], "dtype": "float32"}
              for n, s in spec.inputs.items()]
    manifest = {
        "manifest_version": manifest_version,
        "model": spec.name, "version": version, "precision": fmt.precision,
        "format": fmt.suffix.lstrip("."), "backend": "onnxruntime" if fmt.suffix == ".onnx" else "litert",
        "artifact": path.name,
        "paper": spec.paper,
        "input": inputs[0], "inputs": inputs,
        "outputs": [{"name": n, "shape": [inputs[0]["shape"][0], len(spec.labels)], "meaning": "softmax over labels"}
                    for n in spec.outputs],
        "features": {"schema": spec.feature_schema},
        "labels": list(spec.labels),
        "normalisation": spec.normalisation,
        "metrics": {},
        **{k: v for k, v in carried.items()},
        "pruning": pruning,
        "export": export,
    }
    if "cv" in manifest:
        manifest["metrics"] = {"cv": manifest.pop("cv")}
    if not manifest.get("trained"):
        manifest["metrics"] = {"note": "untrained weights: no task metrics"}
    return manifest


def write(manifest: dict, artifact: Path) -> Path:
    """Embed the manifest into an ONNX artifact, then write the JSON with the final file's sha256 and size."""
    if artifact.suffix == ".onnx":
        embed(artifact, {k: v for k, v in manifest.items() if k not in NOT_EMBEDDED})
    manifest["sha256"] = sha256_of(artifact)
    manifest["bytes"] = artifact.stat().st_size
    name, precision = manifest["model"], manifest["precision"]
    path = manifest_path(artifact.parent, name, precision, manifest["format"])
    path.write_text(json.dumps(manifest, indent=2) + "\n")
    return path


def embed(artifact: Path, manifest: dict) -> None:
    import onnx

    model = onnx.load(str(artifact))
    for prop in list(model.metadata_props):
        if prop.key == ONNX_METADATA_KEY:
            model.metadata_props.remove(prop)
    model.metadata_props.add(key=ONNX_METADATA_KEY, value=json.dumps(manifest, separators=(",", ":")))
    model.producer_name = "pianocam export"
    onnx.save(model, str(artifact))


def read_calibration(folder: Path, spec) -> dict[str, np.ndarray]:
    """Every *.npz in folder: arrays named after the model's inputs, samples on the first axis."""
    files = sorted(folder.glob("*.npz"))
    if not files:
        raise ValueError(f"--calib {folder}: no .npz files there")
    parts: dict[str, list] = {n: [] for n in spec.inputs}
    for f in files:
        with np.load(f) as data:
            for name, shape in spec.inputs.items():
                if name not in data:
                    raise ValueError(f"--calib {f.name}: no array {name!r} (has {', '.join(data.files)})")
                x = data[name].astype(np.float32)
                x = x[None] if x.shape == tuple(shape) else x
                if x.shape[1:] != tuple(shape):
                    raise ValueError(f"--calib {f.name}: {name} has shape {x.shape[1:]}, the model takes {tuple(shape)}")
                parts[name].append(x)
    return {n: np.concatenate(v) for n, v in parts.items()}


def tool_versions(fmt_key: str) -> dict:
    names = ["torch", "onnx", "onnxruntime"] if fmt_key.startswith("onnx") else \
        ["torch", "litert-torch", "ai-edge-quantizer", "ai-edge-litert"]
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def machine() -> str:
    from pianocam.models.runtime import machine as this_machine

    return this_machine()

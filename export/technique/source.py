"""The shipped technique model as a torch module again (weights read from its fp32 ONNX), and its data."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from pianocam.export.networks import SHARED_DATA
from pianocam.models import shipped

SOURCE = shipped("technique", "technique.fp32.json")
LABELS = ("beginner", "advanced")


def _source_manifest(path: Path = SOURCE) -> dict:
    return json.loads(Path(path).read_text())


_m = _source_manifest() if SOURCE.is_file() else {"input": {"shape": [None, 189, 1, 1]}, "features": {}}
SHAPE = tuple(_m["input"]["shape"][1:]) if "input" in _m else tuple(_m["inputs"][0]["shape"][1:])
SCHEMA = _m["features"].get("schema", "landmark-motion-stats-v1/w20")


def build(seed: int, args):
    """An MLP carrying the shipped weights, and the manifest fields to carry over (features, normalisation, cv)."""
    import onnx
    import torch
    from onnx import numpy_helper

    from pianocam.export.technique.models import MLP

    source = Path(getattr(args, "source", None) or SOURCE)
    manifest = _source_manifest(source)
    if manifest.get("architecture") != "mlp":
        raise ValueError(f"{source}: re-export reads MLP weights; this one is {manifest.get('architecture')!r}")
    weights = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(source.parent / manifest["artifact"])).graph.initializer}
    state = {k.removeprefix("model."): torch.from_numpy(v.copy()) for k, v in weights.items()}
    hidden = state["net.1.weight"].shape[0]
    model = MLP(int(np.prod(SHAPE)), len(LABELS), hidden=hidden)
    model.load_state_dict(state)
    carried = {k: manifest[k] for k in ("features", "normalisation", "architecture", "variant", "augment", "cv")
               if k in manifest}
    carried["trained"] = manifest.get("trained", True)
    carried["weights"] = f"from {source.parent.name}/{manifest['artifact']} (sha256 {manifest['sha256'][:16]}…)"
    return model.eval(), carried


def labelled(data_dir, args):
    """Every seed-000 window featurised and standardised with the shipped statistics, and its label."""
    from pianocam.export.technique.data import load_technique_data
    from pianocam.export.technique.train import featurise
    from pianocam.technique.features import standardise

    manifest = _source_manifest(Path(getattr(args, "source", None) or SOURCE))
    data = load_technique_data(Path(data_dir))
    norm = manifest["normalisation"]
    x = featurise(data.sequences, manifest["features"]["featuriser"])
    x = standardise(x, np.asarray(norm["mean"], np.float32), np.asarray(norm["std"], np.float32))
    return {"features": np.ascontiguousarray(x, np.float32)}, data.labels.astype(np.int64)


def representative(count: int, seed: int, args):
    x, _ = labelled(getattr(args, "data", None) or SHARED_DATA / "seed000-landmarks", args)
    rng = np.random.default_rng(seed)
    index = rng.permutation(len(x["features"]))[:count]
    return {"features": x["features"][index]}

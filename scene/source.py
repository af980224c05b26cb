"""The built-in input: a rendered scene, rendered once into the cache and played like a video file."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from pianocam.sources.video import VideoFileSource

logger = logging.getLogger(__name__)


def cache_root() -> Path:
    # systemd's CacheDirectory= sets CACHE_DIRECTORY; elsewhere follow XDG.
    if os.environ.get("CACHE_DIRECTORY"):
        return Path(os.environ["CACHE_DIRECTORY"].split(":")[0])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pianocam"


def cached_scene(spec, cache_dir: Path | None = None) -> Path:
    """The folder holding the rendered scene for spec, rendering it first if it is not there."""
    from pianocam.scene import render_scene

    key = hashlib.sha256(json.dumps(dataclasses.asdict(spec), sort_keys=True).encode()).hexdigest()[:16]
    folder = (cache_dir or cache_root() / "scenes") / key
    if (folder / "truth.json").exists() and (folder / "video.mp4").exists():
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    logger.info("rendering scene %s (seed %d, %d keys, %.0f s) into %s",
                key, spec.seed, spec.keys, spec.seconds, folder)
    # Render beside the cache and rename, so an interrupted render never looks complete.
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=folder.parent))
    try:
        render_scene(spec, work)
        os.replace(work, folder) if not folder.exists() else shutil.rmtree(work)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return folder


class SceneSource(VideoFileSource):
    """A rendered scene played at its frame rate; its truth is at hand for tests and benchmarks."""

    def __init__(self, spec, realtime: bool = True, loop: bool = False, cache_dir: Path | None = None):
        self.spec = spec
        self.folder = cached_scene(spec, cache_dir)
        super().__init__(str(self.folder / "video.mp4"), fps=spec.fps, realtime=realtime, loop=loop)
        self.name = f"scene:{self.folder.name}"

    def performance(self) -> Path:
        return self.folder / "performance.mid"

    def truth(self) -> dict:
        return json.loads((self.folder / "truth.json").read_text())


def open_configured(source_config):
    """The source a [source] section describes, the rendered scene included (built, not yet open)."""
    from pianocam.sources import open_source

    c = source_config
    if c.kind != "scene":
        return open_source(c)
    from pianocam.scene import SceneSpec

    spec = SceneSpec(seed=c.scene_seed, keys=c.scene_keys, seconds=c.scene_seconds, piece=c.scene_piece, fps=c.fps)
    return SceneSource(spec, realtime=c.realtime, loop=c.loop)

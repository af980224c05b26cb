"""Rendered top-down piano scenes with exact truth: the test bed and the demo input."""
from pianocam.scene.spec import SceneSpec

__all__ = ["Scene", "SceneSpec", "render_scene"]


def __getattr__(name):
    # The renderer loads on first use (PEP 562), so commands that only name a scene's options stay light.
    if name in ("Scene", "render_scene"):
        from pianocam.scene import render

        return getattr(render, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

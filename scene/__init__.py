"""Rendered top-down piano scenes with exact truth: the test bed and the demo input."""
from pianocam.scene.render import Scene, render_scene
from pianocam.scene.spec import SceneSpec

__all__ = ["Scene", "SceneSpec", "render_scene"]

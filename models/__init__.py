"""Shipped models (package data) and the one loader that checks an artifact against its manifest."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def shipped(*parts: str) -> Path:
    """A file or folder of the shipped models, where the package lies: a checkout or an installed wheel."""
    return Path(str(resources.files(__name__).joinpath(*parts)))

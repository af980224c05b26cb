"""The display page (package data) and the small HTTP server for brokers that cannot serve files."""
from __future__ import annotations

from importlib import resources
from pathlib import Path


def page_dir() -> Path:
    """The folder holding index.html and its scripts, in a checkout or an installed wheel."""
    return Path(str(resources.files(__name__)))

"""Maps the top-level rooms (sources/, hands/, calibration/, ...) to pianocam.* with every subpackage and its data."""
from setuptools import find_packages, setup

# In the order a frame travels: see ARCHITECTURE.md.
ROOMS = ("config", "sources", "hands", "calibration", "notes", "fingering", "technique", "practice", "unit", "transport",
         "recorder", "display", "models", "scene", "commands", "export")

setup(
    packages=[f"pianocam.{room}" + (f".{sub}" if sub else "") for room in ROOMS for sub in ["", *find_packages(room)]],
    package_dir={f"pianocam.{room}": room for room in ROOMS},
    package_data={"pianocam.practice": ["exercises/*"],
                  "pianocam.recorder": ["templates/*.html", "migrations/script.py.mako"],
                  "pianocam.models": ["*/*.onnx", "*/*.tflite", "*/*.json", "*/*.md", "*.md"],
                  "pianocam.display": ["*.html", "*.js", "*.css", "vendor/*"]},
)

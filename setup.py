"""Maps the top-level rooms (device/, calibration/, export/, practice/, recorder/) to pianocam.* with every subpackage."""
from setuptools import find_packages, setup

ROOMS = ("device", "calibration", "export", "practice", "recorder")

setup(
    packages=[f"pianocam.{room}" + (f".{sub}" if sub else "") for room in ROOMS for sub in ["", *find_packages(room)]],
    package_dir={f"pianocam.{room}": room for room in ROOMS},
    package_data={"pianocam.practice": ["exercises/*"],
                  "pianocam.recorder": ["templates/*.html", "migrations/script.py.mako"]},
)

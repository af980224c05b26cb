"""A built wheel carries its models and page: installed outside the checkout, the demo runs with them."""
from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_a_wheel_installed_outside_the_checkout_runs_the_demo(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(wheels), str(ROOT)], check=True, timeout=300)
    wheel = next(wheels.glob("pianocam-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # The dependencies come from this environment's site-packages, added as a plain path: a .pth line is
    # not a site directory, so this environment's own editable pianocam (a .pth finder there) stays out.
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, timeout=300)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "XDG_STATE_HOME": str(tmp_path / "state")}
    where = subprocess.run([str(python), "-c", "import pianocam.models, pianocam.display as d; "
                            "print(pianocam.models.shipped()); print(d.page_dir())"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_relative_to(site) for p in where), where
    assert (Path(where[0]) / "technique" / "technique.int8.onnx").is_file()
    assert (Path(where[1]) / "index.html").is_file() and (Path(where[1]) / "vendor" / "mqtt.min.js").is_file()

    demo = subprocess.run([str(venv / "bin" / "pianocam"), "demo", "--seconds", "5"], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=600)
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert "notes published with their fingers" in demo.stdout

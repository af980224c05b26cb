"""The recorder's unit file as systemd scores it."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parents[2] / "systemd" / "pianocam-recorder.service"


def test_recorder_service_exposure_is_at_most_2_5():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze missing: the test command installs the systemd package")
    result = subprocess.run([tool, "security", "--offline=true", str(SERVICE)], capture_output=True, text=True)
    match = re.search(r"Overall exposure level for pianocam-recorder.service: ([\d.]+)", result.stdout + result.stderr)
    assert match, result.stdout[-1000:] + result.stderr[-1000:]
    assert float(match.group(1)) <= 2.5
    assert "pianocam recorder --broker" in SERVICE.read_text()

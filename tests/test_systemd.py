"""The unit file's exposure as systemd itself scores it, and the installer's plan."""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_service_exposure_is_at_most_2_5():
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze missing: the test command installs the systemd package")
    result = subprocess.run([tool, "security", "--offline=true", str(ROOT / "systemd" / "pianocam.service")],
                            capture_output=True, text=True)
    match = re.search(r"Overall exposure level for pianocam.service: ([\d.]+)", result.stdout + result.stderr)
    assert match, result.stdout[-1000:] + result.stderr[-1000:]
    assert float(match.group(1)) <= 2.5


def test_service_speaks_notify_with_a_watchdog():
    text = (ROOT / "systemd" / "pianocam.service").read_text()
    for line in ("Type=notify", "WatchdogSec=", "Restart=on-failure", "StateDirectory=pianocam",
                 "SupplementaryGroups=video audio", "NoNewPrivileges=yes", "ProtectSystem=strict"):
        assert line in text


def test_installer_dry_run_writes_the_config_it_was_given():
    result = subprocess.run(["bash", str(ROOT / "systemd" / "install.sh"), "--dry-run", "--unit-id", "room-9",
                             "--broker", "mqtt.school.lan:1884", "--user", "room-9"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert 'unit_id = "room-9"' in out and 'host = "mqtt.school.lan"' in out and "port = 1884" in out
    assert "systemctl enable --now pianocam.service" in out
    bad = subprocess.run(["bash", str(ROOT / "systemd" / "install.sh"), "--dry-run", "--unit-id", "Room 9"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "unit-id" in bad.stderr


def test_installer_prints_a_doctor_that_runs_as_the_service_does():
    result = subprocess.run(["bash", str(ROOT / "systemd" / "install.sh"), "--dry-run", "--password-file",
                             str(ROOT / "README.md")], capture_output=True, text=True, timeout=60)
    doctor = next(line for line in result.stdout.splitlines() if line.startswith("check it:"))
    assert doctor.endswith("pianocam doctor") and "systemd-run" in doctor
    service = dict(line.split("=", 1) for line in (ROOT / "systemd" / "pianocam.service").read_text().splitlines()
                   if "=" in line and not line.startswith("#"))
    for key in ("User", "Group", "StateDirectory", "CacheDirectory"):
        assert f"-p {key}={service[key]} " in doctor, key
    assert f"-p SupplementaryGroups='{service['SupplementaryGroups']}'" in doctor
    assert "LoadCredential=mqtt.password:" in doctor and f"-E {service['Environment']} " in doctor

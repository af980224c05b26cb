"""Config: defaults, TOML, PIANOCAM_* overrides, secrets, and errors that name the key."""
import json
import os
import re
import subprocess
import sys

import pytest

from pianocam.config import UNIT_ID, ConfigError, as_dict, describe, load_config


def test_defaults_need_no_file():
    config = load_config(environ={})
    assert config.source.kind == "scene"
    assert config.mqtt.port == 1883
    assert config.unit_id  # from the hostname


def test_toml_then_environment(tmp_path):
    path = tmp_path / "unit.toml"
    path.write_text('unit_id = "room-7"\n[mqtt]\nhost = "broker.lan"\nport = 1884\n[tracker]\nmodel_complexity = 1\n')
    config = load_config(path, environ={"PIANOCAM_MQTT_PORT": "1999", "PIANOCAM_SOURCE_LOOP": "yes"})
    assert (config.unit_id, config.mqtt.host, config.mqtt.port) == ("room-7", "broker.lan", 1999)
    assert config.tracker.model_complexity == 1
    assert config.source.loop is True


def test_config_path_from_environment(tmp_path):
    path = tmp_path / "unit.toml"
    path.write_text('room = "Practice 3"\n')
    assert load_config(environ={"PIANOCAM_CONFIG": str(path)}).room == "Practice 3"


@pytest.mark.parametrize("text,key", [
    ('[mqtt]\nprot = 1884\n', "mqtt.prot"),
    ('[mqqt]\nport = 1884\n', "mqqt"),
    ('unitid = "x"\n', "unitid"),
])
def test_unknown_key_is_named(tmp_path, text, key):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"'{key}'"):
        load_config(path, environ={})


def test_typo_gets_a_suggestion(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[mqtt]\nprot = 1884\n')
    with pytest.raises(ConfigError, match="did you mean 'port'"):
        load_config(path, environ={})


def test_wrong_type_is_named(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[mqtt]\nport = "eighteen"\n')
    with pytest.raises(ConfigError, match="'mqtt.port' wants int"):
        load_config(path, environ={})


def test_bad_environment_variable_is_named():
    with pytest.raises(ConfigError, match="'tracker.model_complexity' wants int.*environment"):
        load_config(environ={"PIANOCAM_TRACKER_MODEL_COMPLEXITY": "full"})
    with pytest.raises(ConfigError, match="'mqtt.hots'"):
        load_config(environ={"PIANOCAM_MQTT_HOTS": "x"})


def test_values_are_validated():
    with pytest.raises(ConfigError, match="unit_id"):
        load_config(environ={"PIANOCAM_UNIT_ID": "Room 7"})
    with pytest.raises(ConfigError, match="source.kind"):
        load_config(environ={"PIANOCAM_SOURCE_KIND": "webcam"})
    with pytest.raises(ConfigError, match="base_topic"):
        load_config(environ={"PIANOCAM_MQTT_BASE_TOPIC": "a/#"})


def test_invalid_toml_is_reported(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[mqtt\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path, environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.toml", environ={})


def test_password_from_file_and_systemd_credential(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    path = tmp_path / "unit.toml"
    path.write_text(f'[mqtt]\nusername = "unit"\npassword_file = "{secret}"\n')
    assert load_config(path, environ={}).mqtt.password.get_secret_value() == "s3cret"

    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt.password").write_text("from-systemd")
    config = load_config(environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert config.mqtt.password.get_secret_value() == "from-systemd"
    assert as_dict(config)["mqtt"]["password"] == "***"
    assert "from-systemd" not in repr(config)


def test_missing_secret_file_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match="mqtt.password_file"):
        load_config(environ={"PIANOCAM_MQTT_PASSWORD_FILE": str(tmp_path / "nope")})


def test_every_key_is_described():
    rows = describe()
    assert {"mqtt.host", "source.kind", "tracker.model_complexity", "unit_id"} <= {r[0] for r in rows}
    assert all(doc for _, _, doc in rows)


# --- the models: suggestions, ranges, secrets, layers, --describe ---

def pianocam_config(*args, env):
    return subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "config", *args], capture_output=True,
                          text=True, timeout=120, env={k: v for k, v in os.environ.items()
                                                       if not k.startswith("PIANOCAM_")} | env)


@pytest.mark.parametrize("text,key,near", [
    ('[tracker]\nmax_hand = 1\n', "tracker.max_hand", "max_hands"),
    ('[source]\nknd = "video"\n', "source.knd", "kind"),
    ('[journal]\nmax_mbs = 3\n', "journal.max_mbs", "max_mb"),
    ('rooom = "Practice 3"\n', "rooom", "room"),
    ('[calibraton]\nkeys = 61\n', "calibraton", "calibration"),
])
def test_unknown_key_names_itself_and_the_nearest_known_one(tmp_path, text, key, near):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    assert str(err.value) == f"unknown config key '{key}'; did you mean '{near}'?"


def test_unknown_key_on_the_command_line_is_one_line_exit_2(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[mqtt]\nhots = "broker.lan"\n')
    run = pianocam_config("--config", str(path), env={})
    assert run.returncode == 2 and "Traceback" not in run.stderr and "pydantic" not in run.stderr
    assert run.stderr.strip().splitlines() == ["pianocam: unknown config key 'mqtt.hots'; did you mean 'host'?"]


@pytest.mark.parametrize("text,key,fine", [
    ("[mqtt]\nport = 0\n", "mqtt.port", "[mqtt]\nport = 65535\n"),
    ("[mqtt]\nkeepalive = 70000\n", "mqtt.keepalive", "[mqtt]\nkeepalive = 1\n"),
    ("[source]\nfps = 0\n", "source.fps", "[source]\nfps = 0.5\n"),
    ("[source]\nscene_seed = -1\n", "source.scene_seed", "[source]\nscene_seed = 0\n"),
    ("[source]\nscene_keys = 62\n", "source.scene_keys", "[source]\nscene_keys = 88\n"),
    ("[tracker]\nmin_tracking_confidence = 1.01\n", "tracker.min_tracking_confidence",
     "[tracker]\nmin_tracking_confidence = 1.0\n"),
    ("[tracker]\nmax_fps = -1\n", "tracker.max_fps", "[tracker]\nmax_fps = 0\n"),
    ("[technique]\nstride = 0\n", "technique.stride", "[technique]\nstride = 1\n"),
    ("[calibration]\ndrift_interval = -0.5\n", "calibration.drift_interval", "[calibration]\ndrift_interval = 0\n"),
    ("[journal]\nmax_events = 0\n", "journal.max_events", "[journal]\nmax_events = 1\n"),
    ("[metrics]\ninterval = nan\n", "metrics.interval", "[metrics]\ninterval = 0.1\n"),
    ("[notes]\ncamera_latency = inf\n", "notes.camera_latency", "[notes]\ncamera_latency = 0.25\n"),
])
def test_out_of_range_numbers_are_refused_and_the_edge_is_kept(tmp_path, text, key, fine):
    path = tmp_path / "unit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path, environ={})
    message = str(err.value)
    assert message.startswith(f"config key '{key}' must be ") and "\n" not in message, message
    path.write_text(fine)
    section, _, name = key.partition(".")
    value = fine.split("= ")[1].strip()
    assert getattr(getattr(load_config(path, environ={}), section), name) == float(value)


@pytest.mark.parametrize("text,key,wants", [
    ("[tracker]\nmodel_complexity = true\n", "tracker.model_complexity", "int"),
    ("[mqtt]\nkeepalive = 1.5\n", "mqtt.keepalive", "int"),
    ("[source]\nloop = 1\n", "source.loop", "bool"),
    ("[source]\nfps = true\n", "source.fps", "float"),
    ("room = 7\n", "room", "str"),
])
def test_a_file_value_of_the_wrong_toml_type_is_refused(tmp_path, text, key, wants):
    path = tmp_path / "unit.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=f"^config key '{key}' wants {wants}, got "):
        load_config(path, environ={})


def test_assignments_are_checked_like_the_file():
    config = load_config(environ={})
    config.journal.path = "/var/lib/pianocam/journal.sqlite"
    config.mqtt.port = 1884
    assert (config.journal.path, config.mqtt.port) == ("/var/lib/pianocam/journal.sqlite", 1884)
    with pytest.raises(ConfigError, match="^config key 'mqtt.port' must be between 1 and 65535, got 0$"):
        config.mqtt.port = 0
    with pytest.raises(ConfigError, match="did you mean 'keys'"):
        config.calibration.key = 61
    with pytest.raises(ConfigError, match="^config key 'unit_id' must match"):
        config.unit_id = "Room 7"
    assert config.mqtt.port == 1884


def test_layers_defaults_then_file_then_environment_then_secret_files(tmp_path):
    path = tmp_path / "unit.toml"
    path.write_text('room = "Studio"\n[mqtt]\nhost = "from-file"\nport = 1884\npassword = "in-file"\n')
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt.password").write_text("from-systemd\n")
    environ = {"PIANOCAM_MQTT_PORT": "1999", "PIANOCAM_MQTT_PASSWORD": "from-env"}
    config = load_config(path, environ=environ)
    assert (config.room, config.mqtt.host, config.mqtt.port) == ("Studio", "from-file", 1999)
    assert config.mqtt.keepalive == 30  # the default, untouched by either layer
    assert config.mqtt.password.get_secret_value() == "from-env"
    config = load_config(path, environ={**environ, "CREDENTIALS_DIRECTORY": str(creds)})
    assert config.mqtt.password.get_secret_value() == "from-systemd"
    secret = tmp_path / "pw"
    secret.write_text("from-password-file\n")
    config = load_config(path, environ={**environ, "CREDENTIALS_DIRECTORY": str(creds),
                                        "PIANOCAM_MQTT_PASSWORD_FILE": str(secret)})
    assert config.mqtt.password.get_secret_value() == "from-password-file"


def test_the_environment_can_supply_what_the_file_lacks(tmp_path):
    path = tmp_path / "unit.toml"
    path.write_text('[source]\nkind = "video"\n')
    with pytest.raises(ConfigError, match="source.uri"):
        load_config(path, environ={})
    assert load_config(path, environ={"PIANOCAM_SOURCE_URI": "/srv/take.mp4"}).source.uri == "/srv/take.mp4"


def test_pianocam_config_hides_the_password(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("hunter2-s3cret\n")
    run = pianocam_config(env={"PIANOCAM_MQTT_PASSWORD_FILE": str(secret), "PIANOCAM_MQTT_USERNAME": "unit"})
    assert run.returncode == 0, run.stderr
    shown = json.loads(run.stdout)
    assert shown["mqtt"]["password"] == "***" and shown["mqtt"]["username"] == "unit"
    assert "hunter2" not in run.stdout + run.stderr
    assert json.loads(pianocam_config(env={}).stdout)["mqtt"]["password"] == ""


def _keys(data: dict, prefix: str = "") -> set[str]:
    return {k for name, value in data.items()
            for k in (_keys(value, f"{prefix}{name}.") if isinstance(value, dict) else {prefix + name})}


def test_describe_lists_every_key_the_config_has():
    rows = {key: (default, doc) for key, default, doc in describe()}
    assert set(rows) == _keys(as_dict(load_config(environ={})))
    assert "gstreamer" in rows["source.kind"][1] and "Jetson" in rows["source.kind"][1]
    assert all(word in rows["execution_provider"][1] for word in ("cpu", "cuda", "tensorrt", "auto"))
    assert rows["tracker.max_hands"][0] == "'auto'" and rows["tracker.max_hands"][1].endswith("[auto | 1 | 2 | 3 | 4]")
    assert rows["tracker.min_detection_confidence"][1].endswith("[between 0 and 1]")
    assert rows["calibration.keys"][1].endswith("[0 | 49 | 61 | 76 | 88]")
    assert rows["mqtt.password"][0] == "''"


def test_pianocam_config_describe_prints_every_key():
    run = pianocam_config("--describe", env={})
    assert run.returncode == 0, run.stderr
    printed = {line.split()[0] for line in run.stdout.splitlines()}
    assert printed == {key for key, _, _ in describe()}


def test_the_demo_refuses_a_unit_id_by_the_config_s_own_pattern():
    run = subprocess.run([sys.executable, "-m", "pianocam.commands.cli", "demo", "--unit-id", "Room 7"],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"pianocam: --unit-id must match {UNIT_ID.pattern}, got 'Room 7'" in run.stderr.splitlines()
    with pytest.raises(ConfigError, match=f"must match {re.escape(UNIT_ID.pattern)}"):
        load_config(environ={"PIANOCAM_UNIT_ID": "Room 7"})

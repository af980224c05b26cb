"""Config: defaults, TOML, PIANOCAM_* overrides, secrets, and errors that name the key."""
import pytest

from pianocam.config import ConfigError, as_dict, describe, load_config


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
    assert load_config(path, environ={}).mqtt.password == "s3cret"

    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt.password").write_text("from-systemd")
    config = load_config(environ={"CREDENTIALS_DIRECTORY": str(creds)})
    assert config.mqtt.password == "from-systemd"
    assert as_dict(config)["mqtt"]["password"] == "***"
    assert "from-systemd" not in repr(config)


def test_missing_secret_file_names_the_key(tmp_path):
    with pytest.raises(ConfigError, match="mqtt.password_file"):
        load_config(environ={"PIANOCAM_MQTT_PASSWORD_FILE": str(tmp_path / "nope")})


def test_every_key_is_described():
    rows = describe()
    assert {"mqtt.host", "source.kind", "tracker.model_complexity", "unit_id"} <= {r[0] for r in rows}
    assert all(doc for _, _, doc in rows)

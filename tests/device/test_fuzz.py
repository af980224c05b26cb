"""Fuzzed config files and command payloads: errors name the field, nothing else escapes."""
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pianocam.device.config import Config, ConfigError, describe, load_config
from pianocam.device.journal import Journal
from pianocam.device.publisher import Publisher

KEYS = [key for key, _, _ in describe()]
toml_scalars = st.one_of(st.integers(-10**6, 10**6), st.floats(allow_nan=False, allow_infinity=False),
                         st.booleans(), st.text(string.printable, max_size=20))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") \
            .replace("\t", "\\t").replace("\x0b", "\\u000b").replace("\x0c", "\\f") + '"'
    return repr(value)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.one_of(st.sampled_from(KEYS), st.text(string.ascii_lowercase + "._", min_size=1, max_size=15)),
       value=toml_scalars)
def test_any_single_key_either_loads_or_names_itself(tmp_path, key, value):
    section, _, name = key.rpartition(".")
    body = (f"[{section}]\n" if section else "") + f"{name} = {_toml_value(value)}\n"
    path = tmp_path / "fuzz.toml"
    path.write_text(body)
    try:
        config = load_config(path, environ={})
    except ConfigError as err:
        message = str(err)
        assert "TOML" in message or name in message or (section and section.split(".")[0] in message), message
    else:
        assert isinstance(config, Config)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_arbitrary_file_content_is_a_config_error_or_a_config(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "any.toml"
    path.write_text(text)
    try:
        load_config(path, environ={})
    except ConfigError:
        pass


class FakeMessage:
    def __init__(self, topic, payload, retain=False):
        self.topic, self.payload, self.retain = topic, payload, retain


class RecordingClient:
    """Stands in for paho's client inside the command handler only: records what is answered."""

    def __init__(self):
        self.published = []

    def publish(self, topic, payload, qos=0, retain=False):
        self.published.append((topic, payload))
        return type("Info", (), {"rc": 0, "mid": len(self.published)})()


@settings(max_examples=300, deadline=None)
@given(payload=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                         st.dictionaries(st.text(max_size=10), toml_scalars, max_size=5).map(
                             lambda d: json.dumps(d).encode())),
       name=st.sampled_from(["status", "recalibrate", "nope"]))
def test_command_payloads_always_get_one_response(tmp_path_factory, payload, name):
    config = load_config(environ={})
    config.unit_id = "fuzz"
    publisher = Publisher(config, Journal(tmp_path_factory.mktemp("j") / "j.sqlite"))
    publisher.on_command("status", lambda n, request: {"frames": 1})
    client = publisher._client = RecordingClient()
    publisher._on_message(client, None, FakeMessage(f"pianocam/fuzz/cmd/{name}", payload))
    assert len(client.published) == 1
    topic, body = client.published[0]
    assert topic == f"pianocam/fuzz/cmd/{name}/response"
    response = json.loads(body)
    assert response["ok"] is (name == "status" and _is_object(payload))
    publisher.journal.close()


def _is_object(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload or b"{}"), dict)
    except ValueError:
        return False

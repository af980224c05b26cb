"""Fuzzed config files and command payloads: errors name the field, nothing else escapes."""
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pianocam.config import Config, ConfigError, describe, load_config
from pianocam.transport.commands import CommandRouter
from pianocam.transport.messages import encode

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


@settings(max_examples=300, deadline=None)
@given(payload=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                         st.dictionaries(st.text(max_size=10), toml_scalars, max_size=5).map(
                             lambda d: json.dumps(d).encode())),
       name=st.sampled_from(["status", "recalibrate", "nope"]))
def test_command_payloads_always_get_one_response(payload, name):
    router = CommandRouter()
    router.register("status", lambda n, request: {"frames": 1})
    router.register("recalibrate", lambda n, request: {"queued": bool(request["fresh"])})  # KeyError unless given
    response = json.loads(encode(router.answer(name, payload)))  # what goes out on cmd/<name>/response
    expected = name == "status" and _is_object(payload) or (name == "recalibrate" and _has_fresh(payload))
    assert response["ok"] is expected, response
    assert response["ok"] or response["error"]
    assert len(encode(response)) < 1000


def _has_fresh(payload: bytes) -> bool:
    return _is_object(payload) and "fresh" in json.loads(payload or b"{}")


def _is_object(payload: bytes) -> bool:
    try:
        return isinstance(json.loads(payload or b"{}"), dict)
    except ValueError:
        return False


# --- the unit against a real Mosquitto: after any command, key map or manifest it still answers ---

import shutil  # noqa: E402

import numpy as np  # noqa: E402
import paho.mqtt.client as mqtt  # noqa: E402
import pytest  # noqa: E402

from pianocam.calibration.keymap import KeyMap, build_keymap  # noqa: E402
from pianocam.commands.watch import Watcher  # noqa: E402
from pianocam.technique.estimator import DEFAULT_MODEL_DIR  # noqa: E402
from tests.conftest import Inbox, Mosquitto, wait_until  # noqa: E402

json_values = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=20),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=4), max_leaves=12)


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A unit (built from its config, frames not running) connected to a real Mosquitto, and a watcher."""
    from pianocam.scene.source import open_configured
    from pianocam.unit.assembly import Unit

    folder = tmp_path_factory.mktemp("live")
    broker = Mosquitto(folder).start()
    config = load_config(environ={})
    config.unit_id, config.mqtt.host, config.mqtt.port = "fuzzed", broker.host, broker.port
    config.journal.path, config.calibration.keymap = str(folder / "j.sqlite"), str(folder / "keymap.json")
    config.technique.model_dir = str(folder / "technique")
    shutil.copytree(DEFAULT_MODEL_DIR, folder / "technique")
    unit = Unit(config, source=open_configured(config.source))
    inbox = Inbox()
    watcher = Watcher(broker.host, broker.port, unit_id="fuzzed", on_message=inbox)
    assert watcher.start()
    unit.publisher.start()
    assert wait_until(lambda: unit.publisher.connected)
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sender.connect(broker.host, broker.port)
    sender.loop_start()
    yield unit, inbox, sender, folder
    sender.loop_stop()
    unit.publisher.stop(timeout=1)
    unit.tracker.close()
    unit.journal.close()
    watcher.stop()
    broker.stop()


def _still_answers(unit, inbox, sender, transaction):
    sender.publish("pianocam/fuzzed/cmd/status", json.dumps({"transaction": transaction}), qos=1).wait_for_publish(5)
    assert wait_until(lambda: any(r.get("transaction") == transaction and r["ok"]
                                  for r in inbox.of("cmd/status/response")), timeout=10)
    seq = unit.publisher.emit("note", {"pitch": 60})
    assert wait_until(lambda: any(n["seq"] == seq for n in inbox.of("note")), timeout=10)


_count = iter(range(10**9))
deep = st.integers(1, 3000).map(lambda n: ("[" * n + "]" * n).encode())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(st.binary(max_size=400), deep, json_values.map(lambda v: json.dumps(v).encode()),
                         st.dictionaries(st.sampled_from(["transaction", "fresh", "x"]), json_values, max_size=3)
                         .map(lambda d: json.dumps(d).encode())),
       name=st.sampled_from(["status", "recalibrate", "check_calibration", "start_session", "nope"]),
       retain=st.booleans())
def test_after_any_command_the_unit_answers_and_delivers(live, payload, name, retain):
    unit, inbox, sender, _ = live
    sender.publish(f"pianocam/fuzzed/cmd/{name}", payload, qos=1, retain=retain).wait_for_publish(5)
    if retain:
        sender.publish(f"pianocam/fuzzed/cmd/{name}", b"", qos=1, retain=True).wait_for_publish(5)
    _still_answers(unit, inbox, sender, f"fuzz-{next(_count)}")


KEYMAP = build_keymap(np.eye(3), (960, 540), range(48, 60)).to_dict()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(KEYMAP) + ["keys.0", "keys.0.polygon", "keys.0.midi"]), value=json_values,
       whole=st.one_of(st.none(), json_values, st.binary(max_size=100)))
def test_after_any_key_map_file_the_unit_maps_afresh_or_loads_it(live, field, value, whole):
    unit, inbox, sender, folder = live
    path = folder / "keymap.json"
    if whole is not None:
        path.write_bytes(whole if isinstance(whole, bytes) else json.dumps(whole).encode())
    else:
        data = json.loads(json.dumps(KEYMAP))
        target, *rest = field.split(".")
        if rest:
            node = data[target][0]
            if rest[1:]:
                node[rest[1]] = value
            else:
                data[target][0] = value
        else:
            data[target] = value
        path.write_text(json.dumps(data))
    keymap = unit.load_keymap()  # a KeyMap, or None (logged: mapping afresh); nothing else escapes
    assert keymap is None or isinstance(keymap, KeyMap)
    _still_answers(unit, inbox, sender, f"keymap-{next(_count)}")


MANIFEST = json.loads((DEFAULT_MODEL_DIR / "technique.int8.json").read_text())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(sorted(MANIFEST)), value=json_values,
       whole=st.one_of(st.none(), json_values, st.binary(max_size=100)))
def test_after_any_technique_manifest_only_that_stage_turns_off(live, field, value, whole):
    unit, inbox, sender, folder = live
    path = folder / "technique" / "technique.int8.json"
    data = dict(MANIFEST, **{field: value})
    path.write_bytes(whole if isinstance(whole, bytes) else json.dumps(data if whole is None else whole).encode())
    estimator, state = unit.load_technique()  # an estimator, or None with the reason; nothing escapes
    assert (estimator is None) == state.startswith("unavailable")
    _still_answers(unit, inbox, sender, f"manifest-{next(_count)}")

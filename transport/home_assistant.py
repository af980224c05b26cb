"""Home Assistant MQTT discovery for one unit: sensors that read the unit's own retained topics."""
from __future__ import annotations

from pianocam.transport.messages import topic_for

PREFIX = "homeassistant"  # Home Assistant's default discovery prefix


def discovery(base: str, unit_id: str, room: str = "") -> list[tuple[str, dict]]:
    """(topic, config) for each entity, to publish retained. The states are the unit's own topics
    read through templates, so nothing extra is sent while the unit runs."""
    node = f"pianocam_{unit_id}".replace("-", "_")
    device = {"identifiers": [node], "name": f"pianocam {unit_id}", "manufacturer": "pianocam",
              "model": "piano practice unit", **({"suggested_area": room} if room else {})}
    common = {"device": device, "availability_topic": topic_for(base, unit_id, "status"),
              "availability_template": "{{ value_json.state }}", "payload_available": "online",
              "payload_not_available": "offline"}
    session = topic_for(base, unit_id, "session")
    return [
        (f"{PREFIX}/sensor/{node}/practice/config", {
            **common, "name": "Practice this session", "unique_id": f"{node}_practice",
            "state_topic": session, "unit_of_measurement": "min", "device_class": "duration",
            "value_template": "{{ ((as_timestamp(value_json.ts) - as_timestamp(value_json.started)) / 60)"
                              " | round(1) }}"}),
        (f"{PREFIX}/binary_sensor/{node}/playing/config", {
            **common, "name": "Playing", "unique_id": f"{node}_playing", "state_topic": session,
            "value_template": "{{ 'ON' if value_json.playing else 'OFF' }}"}),
        (f"{PREFIX}/sensor/{node}/notes/config", {
            **common, "name": "Notes this session", "unique_id": f"{node}_notes", "state_topic": session,
            "state_class": "measurement", "value_template": "{{ value_json.notes }}"}),
        (f"{PREFIX}/sensor/{node}/score/config", {
            **common, "name": "Last session score", "unique_id": f"{node}_score",
            "state_topic": topic_for(base, unit_id, "skill"),
            "value_template": "{{ value_json.score | default(value_json.level, true) }}"}),
    ]

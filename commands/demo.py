"""`pianocam demo`: the whole unit on a rendered scene, with an embedded broker, no camera needed."""
from __future__ import annotations

import json
import logging
import sys
import tempfile
import threading
import time

from pianocam.commands.broker import EmbeddedBroker
from pianocam.config import UNIT_ID, ConfigError, load_config

logger = logging.getLogger(__name__)


def _summary(progress, metrics: dict) -> str:
    hands = progress.last_hands
    seen = " ".join(f"{h.side[0].upper()} {h.score:.2f}" for h in hands.hands) if hands and hands.hands else "-"
    track = metrics["latency_ms"].get("track", {})
    return (f"t={progress.elapsed:5.1f}s  frames {progress.frames:5d}  fps {metrics['fps']:5.1f}  "
            f"hands [{seen}]  both-hands {progress.frames_with_both / max(progress.frames, 1):6.1%}  "
            f"notes {progress.notes:4d}  "
            f"track p50 {track.get('p50', 0):5.1f} ms p95 {track.get('p95', 0):5.1f} ms  "
            f"dropped {metrics['dropped_frames']}")


def _host_port(text: str) -> tuple[str, int]:
    """HOST, HOST:PORT or [IPv6]:PORT; the port defaults to 1883."""
    host, port = text, "1883"
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or port
    elif text.count(":") == 1:
        host, port = text.split(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"--broker wants HOST or HOST:PORT, got {text!r}")
    return host, int(port)


def run_demo(args) -> int:
    from pianocam.scene.source import open_configured
    from pianocam.unit.assembly import Unit

    config = load_config(environ={})  # the demo runs on built-in defaults, whatever the environment says
    if not UNIT_ID.fullmatch(args.unit_id):
        raise ConfigError(f"--unit-id must match {UNIT_ID.pattern}, got {args.unit_id!r}")
    config.unit_id = args.unit_id
    config.source.kind = "scene"
    config.source.scene_seed = args.seed
    config.source.scene_keys = args.keys
    config.source.scene_piece = args.piece
    config.source.loop = True
    # As an installer would say how many keys the piano has: with one end in view that numbers them.
    config.calibration.keys = args.keys
    config.mqtt.publish_hands = args.hands_topic
    config.metrics.interval = 1.0
    broker = None
    if args.broker:
        host, port = _host_port(args.broker)
        config.mqtt.host, config.mqtt.port = host, port
    else:
        broker = EmbeddedBroker().start()
        config.mqtt.host, config.mqtt.port = broker.host, broker.port
    out = sys.stdout
    lock = threading.Lock()

    def print_message(topic: str, payload: dict) -> None:
        with lock:
            out.write(json.dumps({"topic": topic, "payload": payload}) + "\n")
            out.flush()

    def print_summary(progress, metrics) -> None:
        print(_summary(progress, metrics), file=sys.stderr if args.json else sys.stdout, flush=True)

    watcher = None
    with tempfile.TemporaryDirectory(prefix="pianocam-demo-") as state:
        # The demo keeps its journal and key map to itself: a unit's own state is never touched.
        config.journal.path = f"{state}/journal.sqlite"
        config.calibration.keymap = f"{state}/keymap.json"
        if not args.json:
            print(f"pianocam demo: rendering or reusing scene (seed {args.seed}, {args.keys} keys); "
                  f"broker {config.mqtt.host}:{config.mqtt.port}", flush=True)
        unit = Unit(config, source=open_configured(config.source))
        if args.json:
            from pianocam.commands.watch import Watcher

            watcher = Watcher(config.mqtt.host, config.mqtt.port, config.mqtt.base_topic, config.unit_id,
                              on_message=print_message)
            if not watcher.start():
                logger.warning("could not subscribe to %s:%d; messages will not be echoed",
                               config.mqtt.host, config.mqtt.port)
        try:
            progress = unit.run(seconds=args.seconds, every_second=print_summary)
        finally:
            if watcher:
                time.sleep(0.3)  # let the last messages (metrics, offline) come back through the broker
                watcher.stop()
            if broker:
                broker.stop()
    if not args.json:
        print(f"done: {progress.frames} frames, both hands in {progress.frames_with_both / max(progress.frames, 1):.1%}, "
              f"{progress.notes} notes published with their fingers")
    return 0

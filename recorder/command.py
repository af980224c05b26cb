"""`pianocam recorder`: store every unit's events in a database and serve the teachers' history page.

  pianocam recorder --broker HOST:PORT --database URL [--listen HOST:PORT]   run the recorder
  pianocam recorder stats --database URL --json                               counts stored
  pianocam recorder teacher NAME --database URL                               add a teacher (password on stdin)
  pianocam recorder forget --student NAME --database URL                      delete a student's sessions
"""
from __future__ import annotations

import argparse
import json
import logging
import signal
import socket
import sys
import threading

logger = logging.getLogger(__name__)

# Built-in defaults; a [recorder] table in --config FILE overrides them, options override both.
DEFAULTS = {"database": "recorder.sqlite", "broker": "localhost:1883", "base_topic": "pianocam",
            "client_id": None, "group": None, "listen": "127.0.0.1:8090"}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.formatter_class = argparse.RawDescriptionHelpFormatter
    p.epilog = __doc__.split("\n", 2)[2]
    p.add_argument("--config", metavar="FILE", help="TOML file with a [recorder] table of these options "
                                                    "(database = \"postgresql://...\", broker, listen, group, ...)")
    p.add_argument("--database", metavar="URL",
                   help=f"sqlite:///FILE, a file path, or postgresql://user@host/db (default {DEFAULTS['database']})")
    p.add_argument("--broker", metavar="HOST:PORT", help=f"default {DEFAULTS['broker']}")
    p.add_argument("--base-topic", help=f"default {DEFAULTS['base_topic']}")
    p.add_argument("--client-id", help="the persistent session's name (default pianocam-recorder-HOST)")
    p.add_argument("--group", metavar="NAME",
                   help="share the load with other recorders of this group (MQTT 5 shared subscription; "
                        "with Mosquitto a stopped member's share waits for its return)")
    p.add_argument("--listen", metavar="HOST:PORT",
                   help=f"the history page (default {DEFAULTS['listen']}; 'off' serves none)")
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    sub = p.add_subparsers(dest="action", metavar="ACTION")
    s = sub.add_parser("stats", help="print the counts of units, sessions and notes stored")
    s.add_argument("--database", default=argparse.SUPPRESS, metavar="URL")
    s.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE")
    s.add_argument("--json", action="store_true", help="one JSON object")
    s = sub.add_parser("teacher", help="add a teacher or change their password (read from stdin)")
    s.add_argument("name")
    s.add_argument("--database", default=argparse.SUPPRESS, metavar="URL")
    s.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE")
    s = sub.add_parser("forget", help="delete a student's sessions and the notes and events in them")
    s.add_argument("--student", required=True)
    s.add_argument("--database", default=argparse.SUPPRESS, metavar="URL")
    s.add_argument("--config", default=argparse.SUPPRESS, metavar="FILE")


def _host_port(text: str, what: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{what} {text!r}: expected HOST:PORT")
    return host, int(port)


def _settle(args) -> None:
    """Fill each option left unset from the config file's [recorder] table, then the defaults."""
    table = {}
    if args.config:
        import tomllib

        try:
            with open(args.config, "rb") as f:
                table = tomllib.load(f).get("recorder", {})
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise ValueError(f"{args.config}: {err}") from None
        unknown = sorted(set(table) - set(DEFAULTS))
        if unknown:
            raise ValueError(f"{args.config}: unknown key recorder.{unknown[0]} (known: {', '.join(DEFAULTS)})")
        for key, value in table.items():
            if not isinstance(value, str):
                raise ValueError(f"{args.config}: recorder.{key} must be a string")
    for key, default in DEFAULTS.items():
        if getattr(args, key, None) is None:
            setattr(args, key, table.get(key, default))


def run(args) -> int:
    from pianocam.recorder.store import DatabaseError, Store, open_engine

    try:
        _settle(args)
        store = Store(open_engine(args.database))
        if args.action == "stats":
            counts = store.stats()
            print(json.dumps(counts) if args.json else "  ".join(f"{k} {v}" for k, v in counts.items()))
            return 0
        if args.action == "teacher":
            from pianocam.recorder.web import hash_password

            password = sys.stdin.readline().rstrip("\n")
            if len(password) < 8:
                print("pianocam recorder teacher: the password (stdin) needs 8 characters or more", file=sys.stderr)
                return 2
            store.set_teacher(args.name, hash_password(password))
            return 0
        if args.action == "forget":
            print(json.dumps(store.forget_student(args.student)))
            return 0
        return _serve(args, store)
    except (DatabaseError, ValueError) as err:
        print(f"pianocam recorder: {err}", file=sys.stderr)
        return 2


def _serve(args, store) -> int:
    from pianocam.recorder.store import KINDS, Tally
    from pianocam.recorder.transport import Subscriber, topics

    host, port = _host_port(args.broker, "--broker")
    listen = None if args.listen == "off" else _host_port(args.listen, "--listen")
    logging.getLogger().setLevel(logging.INFO)
    totals = Tally()

    def write(rows):
        tally = store.record(rows)
        totals.stored += tally.stored
        totals.duplicates += tally.duplicates
        totals.rejected += tally.rejected

    subscriber = Subscriber(host, port, args.client_id or f"pianocam-recorder-{socket.gethostname()}",
                            topics(args.base_topic, KINDS, args.group), write)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *a: stop.set())
    server = None
    if listen:
        from pianocam.recorder.web import serve

        server = serve(store, *listen)
    if not subscriber.start():
        logger.warning("broker %s:%d not reached yet; retrying in the background", host, port)
    logger.info("recording %s/+/{%s} into %s", args.base_topic, ",".join(KINDS),
                store.engine.url.render_as_string())
    try:
        stop.wait(args.seconds)
    except KeyboardInterrupt:
        pass
    subscriber.stop()
    if server is not None:
        server.should_exit = True
    logger.info("recorder stopped: %d messages received, %d events stored, %d duplicates dropped, %d refused",
                subscriber.received, totals.stored, totals.duplicates, totals.rejected)
    return 0

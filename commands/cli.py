"""The `pianocam` console script: one entry, subcommands imported only when they run."""
from __future__ import annotations

import argparse
import json
import logging
import sys

from pianocam.scene.spec import LIGHTINGS, PIECES

logger = logging.getLogger("pianocam")



def _setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _add_scene_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=7, help="scene seed (default 7)")
    p.add_argument("--keys", type=int, choices=(49, 61, 76, 88), default=61, help="keyboard size (default 61)")
    p.add_argument("--piece", choices=PIECES, default="mixed", help="what is played (default mixed)")


def cmd_render(args) -> int:
    from pianocam.scene import SceneSpec, render_scene

    if args.exercise or args.score:
        from pianocam.commands.render_exercise import run
        return run(args)
    args.tempo = args.tempo or 100.0
    spec = SceneSpec(seed=args.seed, keys=args.keys, seconds=args.seconds, width=args.width, height=args.height,
                     fps=args.fps, tilt=args.tilt, rotate=args.rotate, distance=args.distance,
                     lighting=args.lighting, noise=args.noise, tempo=args.tempo, piece=args.piece,
                     hands=args.hands)
    written = render_scene(spec, args.out, audio=not args.no_audio)
    print(json.dumps({k: str(v) if v is not None else None for k, v in written.items()}))
    return 0


def cmd_config(args) -> int:
    from pianocam.config import as_dict, describe, load_config

    if args.describe:
        for key, default, doc in describe():
            print(f"{key:34} {default:22} {doc}")
        return 0
    print(json.dumps(as_dict(load_config(args.config)), indent=2))
    return 0


def cmd_run(args) -> int:
    from pianocam.config import load_config
    from pianocam.scene.source import open_configured
    from pianocam.unit.assembly import Unit

    config = load_config(args.config)
    _setup_logging(config.log_level)
    unit = Unit(config, source=open_configured(config.source))
    logger.info("unit %s: source %s, broker %s:%d", config.unit_id, config.source.kind,
                config.mqtt.host, config.mqtt.port)
    progress = unit.run(seconds=args.seconds)
    logger.info("stopped after %d frames, %d notes; %d events dropped by the journal's bounds", progress.frames,
                progress.notes, unit.journal.dropped)
    return 0


def cmd_doctor(args) -> int:
    from pianocam.commands.doctor import report, run_checks
    from pianocam.config import load_config

    checks = run_checks(load_config(args.config))
    if args.json:
        print(json.dumps([c.__dict__ for c in checks]))
    else:
        print(report(checks))
    return 0 if all(c.ok for c in checks) else 1


def cmd_demo(args) -> int:
    from pianocam.commands.demo import run_demo

    return run_demo(args)


# Subcommands that live in other rooms: (name, module, help). Each module exposes
# add_arguments(parser) and run(args) -> int, and keeps its heavy imports inside run().
ROOM_COMMANDS = (
    ("calibrate", "pianocam.commands.calibrate", "locate every key in a top-down frame and write keymap.json"),
    ("train", "pianocam.export.train_command", "train and evaluate the papers' models (export environment)"),
    ("export", "pianocam.export.export_command",
     "prune, quantise and convert a model to ONNX and TFLite with parity checks (export environment)"),
    ("profile", "pianocam.commands.profile",
     "latency, size and memory of every shipped model and backend, beside the papers' tables"),
    ("fingering", "pianocam.commands.fingering",
     "fingers for every note of a recorded video with its MIDI or audio, as JSON lines"),
    ("collect", "pianocam.commands.collect",
     "training clips for seed 003's finger-action network from a recording, the notes as teacher"),
    ("exercises", "pianocam.commands.exercises", "list the built-in exercises (Beringer & Dunhill, ...)"),
    ("practice", "pianocam.commands.practice",
     "a recorded performance against an exercise or score: a verdict per note, a summary, a report"),
    ("display", "pianocam.display.server", "serve the display page over HTTP for brokers that cannot serve files"),
    ("recorder", "pianocam.recorder.command",
     "the school's server: every unit's sessions into a database, and the teachers' history page"),
)


def _add_room_commands(sub) -> None:
    import importlib
    import importlib.util

    for name, module_name, help_text in ROOM_COMMANDS:
        try:
            if importlib.util.find_spec(module_name) is None:
                continue
        except ModuleNotFoundError:  # a room this installation does not map (installed before it existed)
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError as err:
            if err.name and err.name.startswith("pianocam"):
                raise
            # The workstation's commands need .venv-export; say so instead of vanishing.
            p = sub.add_parser(name, help=f"{help_text} [unavailable here: {err.name} is not installed]")
            p.set_defaults(func=lambda args, err=err, name=name: _unavailable(name, err))
            continue
        p = sub.add_parser(name, help=help_text, description=(module.__doc__ or help_text).strip().splitlines()[0])
        module.add_arguments(p)
        p.set_defaults(func=module.run)


def _unavailable(name: str, err: ImportError) -> int:
    print(f"pianocam {name}: needs {err.name}, which this environment lacks. The workstation commands run in "
          f"the export environment: ./setup.sh export, then .venv-export/bin/pianocam {name} ...", file=sys.stderr)
    return 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pianocam",
        description="pianocam: a camera over a piano keyboard; hands, fingers and technique published over MQTT.")
    parser.add_argument("--debug", action="store_true",
                        help="show the traceback behind an error about a bad file or setting")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("demo", help="run the whole pipeline on a rendered scene with a built-in broker",
                       description="Render (or reuse) a scene, start an embedded MQTT broker unless --broker "
                                   "is given, run the pipeline, print a one-line summary per second.")
    _add_scene_args(p)
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds (default: run until Ctrl-C)")
    p.add_argument("--broker", metavar="HOST:PORT", help="publish to this broker instead of an embedded one")
    p.add_argument("--json", action="store_true", help="print every published message as one JSON line on stdout")
    p.add_argument("--unit-id", default="demo", help="unit id in topics (default demo)")
    p.add_argument("--hands-topic", action="store_true", help="also publish per-frame landmarks on .../hands")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="the daemon: run the unit from its config until stopped",
                       description="Run the unit: frame source → hands → MQTT, configured by a TOML file "
                                   "and PIANOCAM_* variables (see `pianocam config --describe`).")
    p.add_argument("--config", metavar="FILE", help="TOML config file (default $PIANOCAM_CONFIG, else built-in)")
    p.add_argument("--seconds", type=float, default=None, help="stop after N seconds")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("render", help="render a top-down keyboard scene with hands and exact truth",
                       description="Write video.mp4, performance.mid, truth.json and (with fluidsynth) audio.wav.")
    _add_scene_args(p)
    p.add_argument("--seconds", type=float, default=10.0, help="length in seconds (default 10)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--width", type=int, default=960)
    p.add_argument("--height", type=int, default=540)
    p.add_argument("--fps", type=float, default=30.0)
    p.add_argument("--tilt", type=float, default=0.0, metavar="DEG", help="camera pitch off vertical")
    p.add_argument("--rotate", type=float, default=0.0, metavar="DEG", help="in-image rotation")
    p.add_argument("--distance", type=float, default=1.0, help="camera distance factor (1 = default framing)")
    p.add_argument("--lighting", choices=LIGHTINGS, default="studio")
    p.add_argument("--noise", type=float, default=2.0, help="sensor noise sigma in grey levels")
    p.add_argument("--tempo", type=float, default=None, help="beats per minute (default 100; an exercise's own)")
    p.add_argument("--hands", choices=("both", "together", "left", "right"), default="both",
                   help="which hands play (both = together)")
    p.add_argument("--no-audio", action="store_true", help="skip audio.wav even when fluidsynth is present")
    p.add_argument("--exercise", metavar="NAME", help="render this exercise (`pianocam exercises`) as a student "
                                                     "plays it with the book's fingering, instead of --piece")
    p.add_argument("--score", metavar="FILE", help="the same for a score file (abcD, MusicXML with fingering)")
    p.add_argument("--passage", type=int, help="only this passage of the exercise (1-based)")
    p.add_argument("--finger-changes", type=int, default=0, metavar="N",
                   help="with --exercise: play N notes with another finger than written")
    p.add_argument("--wrong-notes", type=int, default=0, metavar="N",
                   help="with --exercise: play N notes a semitone off")
    p.add_argument("--timing-jitter", type=float, default=0.0, metavar="MS",
                   help="with --exercise: move each onset by a normal draw of this standard deviation (ms)")
    p.set_defaults(func=cmd_render)

    p = sub.add_parser("config", help="check a config file, or describe every key",
                       description="Print the effective config (secrets hidden), or every key with its default.")
    p.add_argument("--config", metavar="FILE")
    p.add_argument("--describe", action="store_true", help="list every key, its default and what it does")
    p.set_defaults(func=cmd_config)
    p = sub.add_parser("doctor", help="check camera, key map, broker, models and journal; say what to fix",
                       description="Check what the unit needs, one line each; exit 1 if anything fails. "
                                   "Read-only: it writes no key map. To check an installed unit as its "
                                   "service sees it, run the command systemd/install.sh prints.")
    p.add_argument("--config", metavar="FILE", help="TOML config file (default $PIANOCAM_CONFIG, else built-in)")
    p.add_argument("--json", action="store_true", help="print the checks as JSON")
    p.set_defaults(func=cmd_doctor)
    _add_room_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if args.command != "run":
        _setup_logging("WARNING" if getattr(args, "json", False) else "INFO")
    from pianocam.config import ConfigError
    from pianocam.hands.tracker import HandModelError
    from pianocam.sources import SourceError

    try:
        return args.func(args)
    except (ConfigError, SourceError, HandModelError) as err:  # a bad file or setting: one line, exit 2
        if args.debug:
            raise
        print(f"pianocam: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""load_config: defaults, then a TOML file, then PIANOCAM_* variables, then secret files, then rules across keys."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path

from pydantic import ValidationError

from pianocam.config.errors import ConfigError, one_line
from pianocam.config.settings import Config, secrets, sections

# PIANOCAM_* variables that are not config keys: the config file's path, set-up's options.
_NOT_CONFIG = {"PIANOCAM_CONFIG", "PIANOCAM_SYSTEM_SITE"}


def _read_file(path: str | os.PathLike) -> dict:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as err:  # a directory, no permission
        raise ConfigError(f"cannot read config file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config file {path} is not UTF-8 text (TOML)") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from None


def _environment_overrides(environ: dict) -> dict:
    """PIANOCAM_<SECTION>_<KEY> or PIANOCAM_<KEY> into a nested dict of (stripped) text values."""
    overrides: dict = {}
    for var, text in environ.items():
        if not var.startswith("PIANOCAM_") or var in _NOT_CONFIG:
            continue
        rest = var[len("PIANOCAM_"):].lower()
        section = next((s for s in sections() if rest.startswith(s + "_")), None)
        if section:
            overrides.setdefault(section, {})[rest[len(section) + 1:]] = text.strip()
        else:
            overrides[rest] = text.strip()
    return overrides


def _over(base: dict, top: dict) -> dict:
    """base with top's keys laid over it, table by table."""
    merged = dict(base)
    for key, value in top.items():
        merged[key] = _over(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged


def _read_secret(path: str | Path, key: str) -> str:
    try:
        return Path(path).read_text().splitlines()[0].strip() if Path(path).stat().st_size else ""
    except OSError as err:
        raise ConfigError(f"config key '{key}': cannot read secret file {path}: {err.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"config key '{key}': secret file {path} is not UTF-8 text") from None


def _check_together(config: Config) -> None:
    """Rules between keys, and files that must be readable: checked once every layer is in."""
    if config.source.kind == "video" and not config.source.uri:
        raise ConfigError("config key 'source.uri' is required when source.kind is 'video'")
    if config.notes.kind in ("midi-file", "audio-file") and not config.notes.path:
        raise ConfigError(f"config key 'notes.path' is required when notes.kind is '{config.notes.kind}'")
    if config.mqtt.tls:
        for key in ("ca_file", "cert_file", "key_file"):
            path = getattr(config.mqtt, key)
            if path and not os.access(path, os.R_OK):
                raise ConfigError(f"config key 'mqtt.{key}': cannot read {path}")


def load_config(path: str | os.PathLike | None = None, environ: dict | None = None) -> Config:
    """Build the config: defaults < TOML file < PIANOCAM_* variables < secret files."""
    environ = dict(os.environ if environ is None else environ)
    path = path or environ.get("PIANOCAM_CONFIG")
    try:  # a file's values have TOML's types: strict, so 1.0 is no int and true no number
        config = Config.model_validate(_read_file(path) if path else {}, strict=True)
    except ValidationError as err:
        raise one_line(err, Config) from None
    overrides = _environment_overrides(environ)
    if overrides:  # environment text is parsed: "1999" an int, "yes" true
        try:
            config = Config.model_validate(_over(config.model_dump(), overrides))
        except ValidationError as err:
            raise one_line(err, Config, suffix=" (from a PIANOCAM_* environment variable)") from None

    cred_dir = environ.get("CREDENTIALS_DIRECTORY")
    for section, key in secrets():
        part, credential = getattr(config, section), f"{section}.{key}"
        if getattr(part, f"{key}_file"):
            setattr(part, key, _read_secret(getattr(part, f"{key}_file"), f"{credential}_file"))
        elif cred_dir and (Path(cred_dir) / credential).exists():
            setattr(part, key, _read_secret(Path(cred_dir) / credential, credential))
    _check_together(config)
    return config

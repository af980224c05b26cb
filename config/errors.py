"""pydantic's ValidationError turned into the one line a user reads: the key, what is wrong, a near name."""
from __future__ import annotations

import difflib
import typing

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo


class ConfigError(ValueError):
    """A config value or key that pianocam cannot use; the message names it."""


class OneOf:
    """A whole number from a short list (keyboard sizes, model variants): int first, so `true` or 1.0 is refused."""

    def __init__(self, *choices: int):
        self.choices = choices

    def __call__(self, value: int) -> int:
        if value not in self.choices:
            raise ValueError(f"must be one of {', '.join(map(str, self.choices))}")
        return value


def choices(field: FieldInfo) -> tuple | None:
    """The values a field takes, from its Literal or OneOf; None for an open field."""
    if typing.get_origin(field.annotation) is typing.Literal:
        return typing.get_args(field.annotation)
    return next((m.func.choices for m in field.metadata if isinstance(getattr(m, "func", None), OneOf)), None)


def bounds(field: FieldInfo) -> str:
    """The field's range in words ('≥ 1', 'between 0 and 1'); empty when it has none."""
    low = next((("≥", m.ge) if isinstance(m, annotated_types.Ge) else (">", m.gt) for m in field.metadata
                if isinstance(m, (annotated_types.Ge, annotated_types.Gt))), None)
    high = next((("≤", m.le) if isinstance(m, annotated_types.Le) else ("<", m.lt) for m in field.metadata
                 if isinstance(m, (annotated_types.Le, annotated_types.Lt))), None)
    if low and high and low[0] == "≥" and high[0] == "≤":
        return f"between {low[1]:g} and {high[1]:g}"
    return " and ".join(f"{sign} {limit:g}" for sign, limit in filter(None, (low, high)))


def _field(model: type[BaseModel], loc: tuple) -> tuple[type[BaseModel], FieldInfo | None]:
    """The model holding loc's last part, and that part's field (None for an unknown name)."""
    for part in loc[:-1]:
        model = model.model_fields[part].annotation
    return model, model.model_fields.get(loc[-1]) if loc else None


def unknown_key(name: str, model: type[BaseModel], prefix: str = "") -> ConfigError:
    close = difflib.get_close_matches(name, list(model.model_fields), n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return ConfigError(f"unknown config key '{prefix}{name}'{hint}")


_WANTS = {"int": "int", "float": "float", "bool": "bool", "string": "str"}
_RANGE = ("greater_than", "greater_than_equal", "less_than", "less_than_equal")


def one_line(err: ValidationError, model: type[BaseModel], prefix: str = "", suffix: str = "") -> ConfigError:
    """The first of pydantic's errors as one line naming section.key; suffix says where the value came from."""
    error = err.errors(include_url=False)[0]
    loc = tuple(str(part) for part in error["loc"])
    key, kind, value = prefix + ".".join(loc), error["type"], error["input"]
    owner, field = _field(model, loc)
    got = f"got {type(value).__name__} {value!r}"
    if kind == "extra_forbidden":
        text = str(unknown_key(loc[-1], owner, prefix + "".join(f"{p}." for p in loc[:-1])))
    elif kind in ("model_type", "model_attributes_type"):
        text = f"config key '{key}' is a section; write it as [{key}]"
    elif kind.split("_")[0] in _WANTS and kind.endswith(("_type", "_parsing", "_from_float")):
        text = f"config key '{key}' wants {_WANTS[kind.split('_')[0]]}, {got}"
    elif kind == "literal_error":
        text = f"config key '{key}' must be one of {', '.join(map(str, choices(field)))}; got {value!r}"
    elif kind in _RANGE:
        text = f"config key '{key}' must be {bounds(field)}, got {value!r}"
    elif kind == "finite_number":
        text = f"config key '{key}' must be a finite number, got {value!r}"
    elif kind == "value_error":
        text = f"config key '{key}' {error['ctx']['error']}, got {value!r}"
    else:  # pydantic's own words, which are one line
        text = f"config key '{key}': {error['msg']}"
    return ConfigError(text + suffix)

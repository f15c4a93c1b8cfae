"""Helpers for dataclass configs read from JSON."""
from __future__ import annotations

import json
import math
import types
import typing
from dataclasses import MISSING, fields
from typing import Any

from medgan.errors import ConfigError


def reject_unknown_keys(d: dict[str, Any], config_cls: type, what: str) -> None:
    """Raise :class:`ConfigError` naming the keys of ``d`` that are not fields of ``config_cls``."""
    known = {f.name for f in fields(config_cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {what} {unknown}", f"allowed: {', '.join(sorted(known))}")


def check_field_types(obj: Any, what: str) -> None:
    """Raise :class:`ConfigError` naming the first field of dataclass ``obj`` whose value has the wrong type.

    Floats must be finite numbers (ints are accepted), ints must not be bools, tuples may be JSON lists.
    """
    hints = typing.get_type_hints(type(obj))
    for f in fields(obj):
        value, tp = getattr(obj, f.name), hints.get(f.name, Any)
        if not _matches(value, tp):
            default = f.default if f.default is not MISSING else None
            example = "" if default is None else f" (default {json.dumps(default) if _jsonable(default) else default})"
            raise ConfigError(f"{what} {f.name} must be {describe_type(tp)}, got {value!r} ({type(value).__name__})",
                              f"set {f.name} to {describe_type(tp)}{example}")


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _matches(value: Any, tp: Any) -> bool:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if tp is Any:
        return True
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, a) for a in args)
    if tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if tp is str:
        return isinstance(value, str)
    if origin is tuple:
        if not isinstance(value, (tuple, list)):
            return False
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_matches(v, args[0]) for v in value)
        return len(value) == len(args) and all(_matches(v, a) for v, a in zip(value, args))
    if origin is dict or tp is dict:
        return isinstance(value, dict)
    return isinstance(value, tp) if isinstance(tp, type) else True


def describe_type(tp: Any) -> str:
    """Plain words for a type annotation: ``float`` -> "a finite number", ``int | None`` -> "an integer or null"."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(describe_type(a) for a in args)
    words = {type(None): "null", bool: "true or false", int: "an integer", float: "a finite number", str: "a string",
             dict: "a JSON object"}
    if tp in words:
        return words[tp]
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"a list of {_plural(args[0])}"
        return f"a list of {len(args)} {_plural(args[0]) if len(set(args)) == 1 else 'values'}"
    if origin is dict:
        return "a JSON object"
    return "a JSON object" if isinstance(tp, type) else str(tp)


def _plural(tp: Any) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "true/false values"}.get(tp, "values")


def check_range(flag: str, value: Any, minimum: float | None = None, maximum: float | None = None,
                example: str | None = None) -> None:
    """Raise :class:`ConfigError` unless ``value`` is a finite number in ``[minimum, maximum]`` (None: no bound)."""
    if value is None:
        return
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        bounds = (f">= {minimum:g}" if maximum is None else f"<= {maximum:g}" if minimum is None
                  else f"between {minimum:g} and {maximum:g}")
        raise ConfigError(f"{flag} must be {bounds}, got {value!r}", f"e.g. {flag} {example}" if example else f"use {flag} {bounds}")

"""Helpers for dataclass configs read from JSON."""
from __future__ import annotations

from dataclasses import fields
from typing import Any

from medgan.errors import ConfigError


def reject_unknown_keys(d: dict[str, Any], config_cls: type, what: str) -> None:
    """Raise :class:`ConfigError` naming the keys of ``d`` that are not fields of ``config_cls``."""
    known = {f.name for f in fields(config_cls)}
    unknown = sorted(set(d) - known)
    if unknown:
        raise ConfigError(f"unknown {what} {unknown}", f"allowed: {', '.join(sorted(known))}")

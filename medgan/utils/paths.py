"""Check output paths before any work: an ``--out`` folder or a ``--preview`` file must be creatable.

Nothing is created here; the checks only make sure the later writes cannot fail on a path that is an
existing file, lies below a file, or sits in a folder this process cannot write to.
"""
from __future__ import annotations

import os
from pathlib import Path

from medgan.errors import ConfigError

__all__ = ["ensure_output_dir", "ensure_output_file"]


def _nearest_existing(path: Path) -> Path:
    """``path`` itself or its closest existing ancestor ("." for a relative path with none)."""
    q = path
    while not q.exists() and q != q.parent:
        if q.is_symlink():  # a dangling link: writing through it fails
            return q
        q = q.parent
    return q


def _check_parents(path: Path, what: str) -> None:
    base = _nearest_existing(path)
    if base == path:
        return
    if not base.is_dir():
        raise ConfigError(f"{what} {path} lies below {base}, which is a file, not a folder",
                          f"choose a {what} path whose parent folders are folders (or move {base} away)")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {path} cannot be created: {base} is not writable",
                          f"choose a {what} location you can write to, or fix the permissions of {base}")


def ensure_output_dir(path: str | os.PathLike, what: str = "--out") -> Path:
    """Raise :class:`ConfigError` unless ``path`` is (or can be created as) a writable folder; return it."""
    p = Path(path).expanduser()
    if p.exists() and not p.is_dir():
        raise ConfigError(f"{what} {p} is an existing file, not a folder",
                          f"choose a folder for {what} (a new or an existing folder), or move the file away")
    _check_parents(p, what)
    if p.is_dir() and not os.access(p, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {p} is not writable", f"choose a {what} folder you can write to, or fix its permissions")
    return p


def ensure_output_file(path: str | os.PathLike, what: str = "--preview") -> Path:
    """Raise :class:`ConfigError` unless ``path`` can be written as a file (its folder creatable); return it."""
    p = Path(path).expanduser()
    if p.is_dir():
        raise ConfigError(f"{what} {p} is a folder, not a file", f"pass a file name for {what}, e.g. {p / 'preview.png'}")
    _check_parents(p, what)
    parent = p.parent if str(p.parent) else Path(".")
    if parent.is_dir() and not os.access(parent, os.W_OK | os.X_OK):
        raise ConfigError(f"{what} {p} cannot be written: {parent} is not writable",
                          f"choose a {what} location you can write to, or fix the permissions of {parent}")
    return p

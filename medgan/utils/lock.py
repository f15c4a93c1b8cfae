"""An exclusive lock on an output folder (``OUT/.lock``), held for a whole run.

Two processes writing one run folder interleave ``log.csv`` and overwrite each other's checkpoints;
the second one gets a :class:`ConfigError` naming the process that holds the folder instead.
The lock is an ``fcntl.flock`` on ``OUT/.lock`` (released by the kernel when the holder dies, so a
crashed run never leaves a stale lock); the file holds the holder's pid. Where ``fcntl`` does not exist
(Windows) the lock is a no-op.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

from medgan.errors import ConfigError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

__all__ = ["LOCK_NAME", "output_lock"]

LOCK_NAME = ".lock"


@contextlib.contextmanager
def output_lock(out_dir: str | os.PathLike, what: str = "--out") -> Iterator[Path]:
    """Hold ``out_dir/.lock`` (the folder is created) for the ``with`` block; ConfigError if another process holds it."""
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
        fh = open(out / LOCK_NAME, "a+", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{what} {out} cannot be written ({exc.strerror or exc})",
                          f"choose a {what} folder you can write to") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                fh.seek(0)
                pid = fh.read().strip() or "unknown"
                raise ConfigError(f"{out} is in use by another medgan process (pid {pid})",
                                  f"wait for that run to finish (or stop it), or choose another {what}") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield out / LOCK_NAME
    finally:
        fh.close()  # closing the file releases the flock

"""Full training checkpoints (``RUN/checkpoints/last.pt``) for ``--resume``.

A checkpoint is a plain dict of tensors, numbers, strings and lists written with ``torch.save``
(atomically) and read with ``torch.load(weights_only=True)``: never pickled classes.
"""
from __future__ import annotations

import os
from dataclasses import fields
from pathlib import Path
from typing import Any

import torch

from medgan.errors import CheckpointError
from medgan.training.config import TrainConfig
from medgan.utils import atomic_torch_save

FORMAT = "medgan-checkpoint"
FORMAT_VERSION = 1
#: Options that may change between a run and its resumption (they do not change the maths).
RESUMABLE_CHANGES = frozenset({"steps", "sample_every", "checkpoint_every", "log_every", "device", "num_threads"})


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> Path:
    """Write ``state`` (adds format + version) atomically to ``path``."""
    path = Path(path)
    atomic_torch_save({"format": FORMAT, "format_version": FORMAT_VERSION, **state}, path)
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Read a checkpoint with ``weights_only=True``; CheckpointError if missing, corrupt or not ours."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}", "run without --resume to start a new run")
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises many types for corrupt/unsafe files
        raise CheckpointError(f"cannot read checkpoint {path}: {type(exc).__name__}: {str(exc)[:200]}",
                              "the file is corrupt or not a medgan checkpoint; start a new run without --resume") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a medgan training checkpoint", "point --out at a medgan run directory")
    if int(state.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{path} has format_version {state.get('format_version')}", "upgrade medgan")
    return state


def check_resumable(state: dict[str, Any], config: dict[str, Any], data_fingerprint: str, path: str | os.PathLike) -> None:
    """Refuse to resume when the training options or the data differ from the checkpoint's."""
    defaults = {f.name: f.default for f in fields(TrainConfig)}
    saved = {**{k: defaults[k] for k in set(config) - set(state.get("config", {})) if k in defaults},
             **state.get("config", {})}  # an option added to medgan after the run started: its default then
    diffs = sorted(k for k in set(saved) | set(config) if k not in RESUMABLE_CHANGES and saved.get(k) != config.get(k))
    if diffs:
        detail = ", ".join(f"{k}: {saved.get(k)!r} -> {config.get(k)!r}" for k in diffs[:6])
        raise CheckpointError(f"cannot resume {path}: the training options differ from the checkpoint's ({detail})",
                              "resume with the original options (see RUN/config.json), or start a new run in another --out")
    if state.get("data_fingerprint") != data_fingerprint:
        raise CheckpointError(
            f"cannot resume {path}: the data differ (checkpoint fingerprint {state.get('data_fingerprint')}, "
            f"now {data_fingerprint})",
            "pass the same --data, --window and --image-size as the original run, or start a new run in another --out")

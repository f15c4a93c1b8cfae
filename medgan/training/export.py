"""The generator-only export: ``generator.safetensors`` (EMA G state dict) + ``generator.json``.

``generator.json`` holds everything needed to rebuild and use the generator::

    {"format": "medgan-generator", "format_version": 1, "model": "cgan", "arch": {build_generator kwargs},
     "latent_dim": 128, "image_size": 64, "class_names": [...], "window": IntensityWindow.to_dict(),
     "data_fingerprint": "...", "holdout_patients": [...], "train_patients": [...], "step": 3000,
     "weights_sha256": "<sha256 of generator.safetensors>", "medgan_version": "0.1.0"}

No pickle anywhere: weights are safetensors, metadata is JSON. Reading verifies the format, the
SHA-256 of the weights and every tensor's name and shape.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from medgan._version import __version__
from medgan.data.windows import IntensityWindow
from medgan.errors import CheckpointError, MedganError
from medgan.models import build_generator
from medgan.utils import atomic_path, atomic_save_json, sha256_file

FORMAT = "medgan-generator"
FORMAT_VERSION = 1
WEIGHTS_NAME = "generator.safetensors"
META_NAME = "generator.json"
REQUIRED_META = ("model", "arch", "latent_dim", "image_size", "class_names", "window")


def write_generator_export(out_dir: str | os.PathLike, generator: nn.Module, meta: dict[str, Any]) -> Path:
    """Write ``out_dir/generator.safetensors`` and ``out_dir/generator.json`` atomically (weights first).

    Args:
        out_dir: run directory (created if needed).
        generator: the (EMA) generator; its state dict is saved.
        meta: at least model, arch, latent_dim, image_size, class_names, window (a dict); the usual
            extras are data_fingerprint, holdout_patients, train_patients, step. ``format``,
            ``format_version``, ``weights_sha256`` and ``medgan_version`` are filled in here.

    Returns:
        The path of ``generator.json``.
    """
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise ValueError(f"generator export meta lacks {missing}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in generator.state_dict().items()}
    with atomic_path(out / WEIGHTS_NAME) as tmp:
        save_file(state, str(tmp), metadata={"format": FORMAT})
    window = meta["window"].to_dict() if hasattr(meta["window"], "to_dict") else meta["window"]
    doc = {"format": FORMAT, "format_version": FORMAT_VERSION}
    doc.update({k: v for k, v in meta.items() if k not in ("format", "format_version", "weights_sha256")})
    doc["window"] = window
    doc["weights_sha256"] = sha256_file(out / WEIGHTS_NAME)
    doc.setdefault("medgan_version", __version__)
    atomic_save_json(out / META_NAME, doc)
    return out / META_NAME


#: Required metadata key -> (check, what it must be).
_META_TYPES = {
    "model": (lambda v: isinstance(v, str), "a model name"),
    "arch": (lambda v: isinstance(v, dict), "an object of build_generator arguments"),
    "latent_dim": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "image_size": (lambda v: isinstance(v, int) and not isinstance(v, bool), "an integer"),
    "class_names": (lambda v: isinstance(v, list) and len(v) >= 1 and all(isinstance(c, (str, int)) for c in v),
                    "a list of class names"),
    "window": (lambda v: isinstance(v, dict), "an intensity window object"),
}


def check_export_meta(meta: Any, source: str | os.PathLike) -> dict[str, Any]:
    """Raise :class:`CheckpointError` unless ``meta`` has every required key with a usable type; return it."""
    if not isinstance(meta, dict):
        raise CheckpointError(f"{source}: generator metadata is not a JSON object", "re-export the generator")
    missing = [k for k in REQUIRED_META if k not in meta]
    if missing:
        raise CheckpointError(f"{source} lacks {missing}", "re-export the generator")
    for key, (ok, what) in _META_TYPES.items():
        if not ok(meta[key]):
            raise CheckpointError(f"{source}: {key} must be {what}, got {meta[key]!r}",
                                  "the metadata was edited or written by another tool; re-export the generator")
    try:
        IntensityWindow.from_dict(meta["window"])
    except (MedganError, TypeError) as exc:
        raise CheckpointError(f"{source}: window {meta['window']!r} is not valid ({exc})", "re-export the generator") from None
    return meta


def _resolve(path: str | os.PathLike) -> tuple[Path, Path]:
    p = Path(path)
    if p.is_dir():
        meta, weights = p / META_NAME, p / WEIGHTS_NAME
    elif p.suffix == ".json":
        meta, weights = p, p.with_suffix(".safetensors")
    elif p.suffix == ".safetensors":
        meta, weights = p.with_suffix(".json"), p
    else:
        raise CheckpointError(f"{p} is not a generator export",
                              "pass a run directory, generator.json or generator.safetensors")
    for f in (meta, weights):
        if not f.is_file():
            raise CheckpointError(f"generator export file {f} not found",
                                  "train first (medgan train --out RUN) or point at the run directory")
    return meta, weights


def read_generator_export(path: str | os.PathLike) -> tuple[nn.Module, dict[str, Any]]:
    """Load a generator export and verify it.

    Args:
        path: a run directory, its ``generator.json`` or its ``generator.safetensors``.

    Returns:
        ``(generator in eval mode on CPU, meta dict)``.

    Raises:
        CheckpointError: missing files, wrong format, weights whose SHA-256 differs from the JSON
            (tampered / swapped), or tensors that do not match the architecture.
    """
    meta_path, weights_path = _resolve(path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta_path} is not valid JSON ({exc})", "re-export the generator") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{meta_path} is not a medgan generator export (format={meta.get('format') if isinstance(meta, dict) else None!r})",
                              "point at the generator.json written by `medgan train`")
    version = meta.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int):
        raise CheckpointError(f"{meta_path}: format_version must be an integer, got {version!r}", "re-export the generator")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{meta_path} has format_version {meta.get('format_version')}, this medgan reads <= {FORMAT_VERSION}",
                              "upgrade medgan")
    check_export_meta(meta, meta_path)
    if not isinstance(meta.get("weights_sha256"), str):
        raise CheckpointError(f"{meta_path} lacks weights_sha256 (a hex string)", "re-export the generator")
    digest = sha256_file(weights_path)
    if digest != meta["weights_sha256"]:
        raise CheckpointError(
            f"weights do not match generator.json; re-export them: sha256 of {weights_path} is {digest[:12]}..., "
            f"{meta_path.name} expects {str(meta['weights_sha256'])[:12]}...",
            "re-export the generator from its run (or restore the original files); do not edit weights by hand")
    try:
        generator = build_generator(meta["model"], **meta["arch"])
    except MedganError as exc:
        raise CheckpointError(f"{meta_path}: cannot rebuild the generator: {exc.message}", "re-export the generator") from None
    try:
        state = load_file(str(weights_path))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"{weights_path} is not a readable safetensors file ({exc})", "re-export the generator") from None
    expected = generator.state_dict()
    problems = [f"missing {k}" for k in expected if k not in state]
    problems += [f"unexpected {k}" for k in state if k not in expected]
    problems += [f"{k}: shape {tuple(state[k].shape)} != {tuple(v.shape)}" for k, v in expected.items()
                 if k in state and state[k].shape != v.shape]
    if problems:
        raise CheckpointError(f"{weights_path} does not fit the {meta['model']} architecture in {meta_path.name}: "
                              + "; ".join(problems[:5]) + (" ..." if len(problems) > 5 else ""),
                              "the weights and generator.json come from different runs; re-export the generator")
    generator.load_state_dict(state)
    generator.eval()
    return generator, meta

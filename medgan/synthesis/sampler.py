"""Load a trained generator and sample labelled images from it deterministically.

:func:`load_generator` accepts a run directory, a ``generator.json`` / ``generator.safetensors`` export
or a MONAI bundle written by ``medgan export-bundle`` and returns a :class:`GeneratorSampler`.

Determinism: the latent of sample ``i`` is drawn from ``torch.Generator().manual_seed(seeds[i])`` on the
CPU, and the generator runs in eval mode (batch norms use running statistics), so an image depends only
on ``(class, seed)`` -- not on the batch it was drawn in, the device (up to float rounding) or any global
RNG. That makes synthetic samples replayable and cacheable.
"""
from __future__ import annotations

import json
import os
import pickle
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from medgan.data.windows import IntensityWindow
from medgan.errors import CheckpointError, ConfigError, MedganError
from medgan.models import build_generator
from medgan.training.export import check_export_meta, read_generator_export
from medgan.utils import sha256_file
from medgan.utils.device import resolve_device
from medgan.utils.seeding import derive_seed

__all__ = ["GeneratorSampler", "load_generator"]

BUNDLE_META = Path("configs") / "metadata.json"
BUNDLE_WEIGHTS = Path("models") / "model.pt"
#: key of configs/metadata.json that holds the generator export metadata inside a bundle.
BUNDLE_META_KEY = "medgan_generator"


class GeneratorSampler:
    """A trained generator plus what is needed to use its output (classes, size, intensity window).

    Args:
        generator: module with ``forward(z (N, latent_dim), y int64 (N,)) -> (N, 1, S, S)`` in [-1, 1].
        meta: the export metadata (class_names, image_size, latent_dim, window, weights_sha256, ...).
        device: where the generator runs ("cpu", "cuda", "auto").

    Attributes:
        class_names, image_size, latent_dim, window (:class:`IntensityWindow`), fingerprint (16 hex of the
        weights' SHA-256), meta, device.
    """

    def __init__(self, generator: nn.Module, meta: dict[str, Any], device: str | torch.device = "cpu") -> None:
        try:
            self.class_names: list[str] = [str(c) for c in meta["class_names"]]
            self.image_size = int(meta["image_size"])
            self.latent_dim = int(meta["latent_dim"])
            self.window = IntensityWindow.from_dict(meta["window"]) if isinstance(meta["window"], dict) else meta["window"]
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"generator metadata is incomplete or malformed ({exc!r})",
                                  "re-export the generator with `medgan train`") from None
        self.meta = dict(meta)
        self.fingerprint = str(meta.get("weights_sha256", "unknown"))[:16]
        self.device = resolve_device(device)
        self.generator = generator.to(self.device).eval()
        for p in self.generator.parameters():
            p.requires_grad_(False)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def data_fingerprint(self) -> str | None:
        """Fingerprint of the data the generator was trained on (from its export), if recorded."""
        value = self.meta.get("data_fingerprint")
        return value if isinstance(value, str) else None

    def __repr__(self) -> str:
        return (f"GeneratorSampler(model={self.meta.get('model')!r}, classes={self.class_names}, "
                f"image_size={self.image_size}, window={self.window.name!r}, fingerprint={self.fingerprint!r}, "
                f"device={str(self.device)!r})")

    def class_index(self, cls: int | str) -> int:
        """Index of a class given by name or index; raises :class:`ConfigError` for an unknown class."""
        if isinstance(cls, str) and cls in self.class_names:
            return self.class_names.index(cls)
        if isinstance(cls, str) and cls.lstrip("-").isdigit():
            cls = int(cls)
        if isinstance(cls, (int, np.integer)) and not isinstance(cls, bool) and 0 <= int(cls) < self.num_classes:
            return int(cls)
        raise ConfigError(f"class {cls!r} is not one of this generator's classes {self.class_names}",
                          f"use a name from {self.class_names} or an index 0..{self.num_classes - 1}")

    @property
    def info_codes(self) -> int:
        """Number of InfoGAN codes (the last entries of z, each in [-1, 1]); 0 for other generators."""
        return int(self.meta.get("info_codes") or 0)

    def latents(self, seeds: Sequence[int], codes: Any = None) -> torch.Tensor:
        """(N, latent_dim) CPU float32 latents; row i from ``torch.Generator().manual_seed(seeds[i])``.

        For an InfoGAN generator the last :attr:`info_codes` entries are drawn from U(-1, 1) (as in
        training), or set to ``codes``: one value per code (``(K,)``, used for every row) or ``(N, K)``.
        """
        out = torch.empty(len(seeds), self.latent_dim)
        k = self.info_codes
        for i, s in enumerate(seeds):
            g = torch.Generator().manual_seed(int(s))
            out[i] = torch.randn(self.latent_dim, generator=g)
            if k:
                out[i, -k:] = torch.rand(k, generator=g) * 2 - 1
        if codes is not None:
            out[:, -max(k, 1):] = self._check_codes(codes, len(seeds))
        return out

    def _check_codes(self, codes: Any, n: int) -> torch.Tensor:
        k = self.info_codes
        if not k:
            raise ConfigError("this generator has no InfoGAN codes", "train with info_codes > 0 to set codes")
        values = torch.as_tensor(codes, dtype=torch.float32)
        values = values.expand(n, k) if values.ndim == 1 and values.numel() == k else values
        if tuple(values.shape) != (n, k) or not torch.isfinite(values).all():
            raise ConfigError(f"codes must be {k} finite numbers (or one row of {k} per sample), got shape "
                              f"{tuple(values.shape)}", f"e.g. codes={[0.0] * k}; training drew each from [-1, 1]")
        return values

    @torch.no_grad()
    def sample(self, labels: Sequence[int | str] | torch.Tensor, seeds: Sequence[int] | torch.Tensor,
               batch_size: int = 256, codes: Any = None) -> torch.Tensor:
        """Synthesize one image per (label, seed): a CPU float32 tensor (N, 1, S, S) in [-1, 1].

        ``codes`` sets an InfoGAN generator's codes (see :meth:`latents`). Raises :class:`CheckpointError`
        when the generator outputs NaN/inf (broken weights)."""
        if isinstance(batch_size, bool) or int(batch_size) < 1:
            raise ConfigError(f"batch size must be >= 1, got {batch_size}", "e.g. --batch-size 64")
        batch_size = int(batch_size)
        labels = [self.class_index(int(c) if torch.is_tensor(c) else c) for c in list(labels)]
        seeds = [int(s) for s in list(seeds)]
        if len(labels) != len(seeds):
            raise ConfigError(f"{len(labels)} labels but {len(seeds)} seeds", "pass one seed per label")
        chunks = []
        for start in range(0, len(labels), batch_size):
            rows = codes if codes is None or torch.as_tensor(codes).ndim < 2 else torch.as_tensor(codes)[start:start + batch_size]
            z = self.latents(seeds[start:start + batch_size], rows).to(self.device)
            y = torch.as_tensor(labels[start:start + batch_size], dtype=torch.long, device=self.device)
            out = self.generator(z, y).float()
            if not torch.isfinite(out).all():
                bad = sorted({self.class_names[c] for c in labels[start:start + batch_size]})
                raise CheckpointError(f"generator {self.fingerprint} produced NaN/inf pixels (classes {bad})",
                                      "its weights are broken: retrain, or use an earlier checkpoint's export")
            chunks.append(out.clamp_(-1.0, 1.0).cpu())
        if not chunks:
            return torch.zeros(0, 1, self.image_size, self.image_size)
        return torch.cat(chunks)

    def class_seeds(self, cls: int | str, n: int, seed: int = 0, start: int = 0) -> list[int]:
        """The per-sample seeds :meth:`sample_class` uses: ``derive_seed(seed, class, j)`` for j in start..start+n."""
        c = self.class_index(cls)
        return [derive_seed(seed, c, j) for j in range(int(start), int(start) + int(n))]

    def sample_class(self, cls: int | str, n: int, seed: int = 0, batch_size: int = 256, codes: Any = None) -> torch.Tensor:
        """``n`` images of one class (N, 1, S, S); the first k of ``n`` equal ``sample_class(cls, k, seed)``."""
        if int(n) < 0:
            raise ConfigError(f"number of samples must be >= 0, got {n}", "e.g. 100")
        c = self.class_index(cls)
        return self.sample([c] * int(n), self.class_seeds(c, n, seed), batch_size=batch_size, codes=codes)


def _check_finite(generator: nn.Module, source: Path) -> None:
    """Every floating-point weight and buffer must be finite (a matching SHA-256 does not prove that)."""
    bad = [k for k, v in generator.state_dict().items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"{source}: the generator weights hold NaN/inf values ({', '.join(bad[:3])}"
                              f"{' ...' if len(bad) > 3 else ''})",
                              "the run diverged or the file is broken: retrain, or export an earlier good checkpoint")


def _check_built(generator: nn.Module, meta: dict[str, Any], source: Path) -> None:
    """Probe the rebuilt generator: finite weights; class count, latent size and output shape as in the metadata."""
    _check_finite(generator, source)
    n_cls = getattr(generator, "num_classes", None)
    if n_cls is not None and int(n_cls) != len(meta["class_names"]):
        raise CheckpointError(f"{source}: generator has {n_cls} classes but metadata lists {len(meta['class_names'])}",
                              "the metadata and weights come from different runs; re-export")
    size, zdim = int(meta["image_size"]), int(meta["latent_dim"])
    try:
        with torch.no_grad():
            out = generator.eval()(torch.zeros(1, zdim), torch.zeros(1, dtype=torch.long))
    except (RuntimeError, ValueError, IndexError) as exc:
        raise CheckpointError(f"{source}: generator does not run with latent_dim={zdim} ({exc})",
                              "metadata does not match the architecture; re-export the generator") from None
    if tuple(out.shape) != (1, 1, size, size):
        raise CheckpointError(f"{source}: generator outputs {tuple(out.shape)[1:]}, metadata says (1, {size}, {size})",
                              "metadata does not match the architecture; re-export the generator")


def _read_bundle(root: Path) -> tuple[nn.Module, dict[str, Any]]:
    meta_path, weights = root / BUNDLE_META, root / BUNDLE_WEIGHTS
    for f in (meta_path, weights):
        if not f.is_file():
            raise CheckpointError(f"bundle file {f} not found", "re-run `medgan export-bundle`")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))[BUNDLE_META_KEY]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CheckpointError(f"{meta_path} is not a medgan bundle metadata file ({exc!r})",
                              "point at a bundle written by `medgan export-bundle`") from None
    check_export_meta(meta, meta_path)
    digest = sha256_file(weights)
    if digest != meta.get("weights_sha256"):
        raise CheckpointError(f"{weights} does not match {meta_path.name} (sha256 {digest[:12]}..., expected "
                              f"{str(meta.get('weights_sha256'))[:12]}...)", "re-export the bundle; do not edit weights by hand")
    try:
        generator = build_generator(meta["model"], **meta["arch"])
        state = torch.load(weights, map_location="cpu", weights_only=True)
    except MedganError as exc:
        raise CheckpointError(f"{meta_path}: cannot rebuild the generator: {exc.message}", "re-export the bundle") from None
    except (KeyError, RuntimeError, OSError, EOFError, ValueError, pickle.UnpicklingError) as exc:
        raise CheckpointError(f"{weights} cannot be loaded ({type(exc).__name__}: {str(exc).strip().splitlines()[0][:200]})",
                              "it is not a plain tensor file written by `medgan export-bundle`; re-export the bundle") from None
    try:
        generator.load_state_dict(state)
    except (RuntimeError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"{weights} does not fit the {meta['model']} architecture ({str(exc)[:300]})",
                              "re-export the bundle") from None
    return generator.eval(), meta


def load_generator(path: str | os.PathLike, device: str | torch.device = "cpu") -> GeneratorSampler:
    """Load a generator for sampling.

    Args:
        path: a run directory (holding ``generator.json`` + ``generator.safetensors``), either export file,
            or a MONAI bundle directory written by ``medgan export-bundle`` (also its ``configs/metadata.json``
            or ``models/model.pt``).
        device: "cpu", "cuda", "cuda:N" or "auto".

    Raises:
        CheckpointError: a missing or wrong file, tampered weights, or metadata that does not match the weights.
    """
    p = Path(path)
    if not p.exists():
        raise CheckpointError(f"generator path {p} does not exist",
                              "pass a run directory of `medgan train`, its generator.json, or a bundle directory")
    if p.is_file() and p.name in ("metadata.json", "model.pt") and p.parent.name in ("configs", "models"):
        p = p.parent.parent
    if p.is_dir() and (p / BUNDLE_META).is_file() and not (p / "generator.json").is_file():
        generator, meta = _read_bundle(p)
    elif p.is_file() and p.suffix not in (".json", ".safetensors"):
        raise CheckpointError(f"{p} is not a generator export",
                              "pass a run directory, generator.json/.safetensors or a bundle directory "
                              "(full training checkpoints are not loaded for sampling)")
    else:
        generator, meta = read_generator_export(p)
    _check_built(generator, meta, p)
    return GeneratorSampler(generator, meta, device=device)

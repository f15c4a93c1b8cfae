"""Synthetic images for one fold: train the GAN once, generate one pool, reuse it for every ratio.

The pool is drawn once per fold and model (deterministic per seed); the arm with ratio ``r`` takes the
first ``ceil(r * n_c)`` images of class ``c``, so larger ratios extend smaller ones (nested sets).
Generation goes through medgan's MONAI plug-in (:class:`medgan.transforms.SyntheticDataset`, batched via
``as_tensors``) for real generators; the pool is then cached as tensors for the fold's arms.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch

from medgan.errors import ConfigError
from medgan.synthesis import GeneratorSampler, load_generator
from medgan.training import TrainConfig, train
from medgan.transforms import SyntheticDataset


@dataclass
class SyntheticPool:
    """Synthetic images per class: ``images[c]`` is a float32 tensor (n_c, 1, S, S) in [-1, 1]."""

    images: list[torch.Tensor]

    @classmethod
    def generate(cls, sampler: Any, counts: Sequence[int], seed: int) -> "SyntheticPool":
        """Draw ``counts[c]`` images of every class ``c`` from ``sampler`` (seeded, deterministic).

        A :class:`medgan.synthesis.GeneratorSampler` goes through :class:`medgan.transforms.SyntheticDataset`
        (item ``j`` of class ``c`` has seed ``derive_seed(seed, c, j)``, so the first ``n`` items of a
        class are the same whatever the pool size); other samplers (test fakes) through ``sample_class``.
        """
        counts = [max(0, int(n)) for n in counts]
        if isinstance(sampler, GeneratorSampler):
            x, y = SyntheticDataset(sampler, counts_per_class=counts, seed=seed).as_tensors()
            x = x.float().detach().cpu()
            return cls([x[y == c] for c in range(len(counts))])
        out = []
        for c, n in enumerate(counts):
            x = sampler.sample_class(c, n, seed=seed + 7919 * c) if n else torch.zeros(0, 1, 1, 1)
            out.append(torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float().detach().cpu())
        return cls(out)

    def take(self, counts: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """(images, labels): the first ``counts[c]`` images of every class c."""
        xs, ys = [], []
        for c, n in enumerate(counts):
            if n > len(self.images[c]):
                raise ValueError(f"pool holds {len(self.images[c])} images of class {c}, {n} requested")
            if n > 0:
                xs.append(self.images[c][: int(n)])
                ys.append(torch.full((int(n),), c, dtype=torch.long))
        if not xs:
            return torch.zeros(0), torch.zeros(0, dtype=torch.long)
        return torch.cat(xs), torch.cat(ys)

    def mixed_with(self, real: tuple[torch.Tensor, torch.Tensor], counts: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        """Real images plus the first ``counts[c]`` synthetic images of every class."""
        sx, sy = self.take(counts)
        if len(sy) == 0:
            return real
        return torch.cat([real[0].float(), sx]), torch.cat([real[1].long(), sy])

    def preview(self, k: int = 8) -> list[np.ndarray]:
        """Up to ``k`` images per class as numpy (k, S, S), for the report's real-vs-synthetic grid."""
        return [im[:k, 0].numpy() for im in self.images]


def gan_data_fingerprint(sampler: Any, run_dir: Path) -> str | None:
    """The training-data fingerprint a GAN reports (sampler attribute or ``generator.json``), or None."""
    for attr in ("data_fingerprint",):
        value = getattr(sampler, attr, None)
        if isinstance(value, str):
            return value
    meta = getattr(sampler, "meta", None)
    if isinstance(meta, dict) and isinstance(meta.get("data_fingerprint"), str):
        return meta["data_fingerprint"]
    for path in sorted(Path(run_dir).glob("**/generator.json")):
        try:
            value = json.loads(path.read_text()).get("data_fingerprint")
        except (OSError, ValueError):
            continue
        if isinstance(value, str):
            return value
    return None


def _finished(run_dir: Path, fingerprint: str, steps: int) -> bool:
    """True when ``run_dir`` holds a final export trained on ``fingerprint`` for ``steps`` steps."""
    path = Path(run_dir) / "generator.json"
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    return meta.get("data_fingerprint") == fingerprint and int(meta.get("step", -1)) >= int(steps)


def default_gan_factory(steps: int | None, options: dict[str, Any], device: str) -> Callable[[str], Callable]:
    """``factory(model)(train_data, seed, out_dir) -> sampler`` using :func:`medgan.training.train`.

    The GAN trains on exactly ``train_data`` (no internal hold-out), with bfloat16 autocast where it is
    fast (``amp="auto"``; ``options`` may override it, e.g. ``{"amp": false}``). A finished run directory whose
    export matches ``train_data``'s fingerprint is reused instead of retrained (resumed benchmarks).
    """

    def for_model(model: str) -> Callable:
        def factory(train_data: Any, seed: int, out_dir: Path) -> Any:
            out_dir = Path(out_dir)
            names = {f.name for f in fields(TrainConfig)}
            wanted: dict[str, Any] = {"model": model, "seed": seed, "image_size": train_data.image_size,
                                      "holdout_fraction": 0.0, "device": device, "sample_every": 0,
                                      "checkpoint_every": 500, "amp": "auto"}
            if steps is not None:
                wanted["steps"] = steps
            bad = sorted(set(options) - names)
            if bad:
                raise ConfigError(f"unknown GAN training options {bad} in gan_options",
                                  f"use fields of medgan.training.TrainConfig: {sorted(names)}")
            wanted.update(options)
            cfg = TrainConfig(**{k: v for k, v in wanted.items() if k in names})
            if _finished(out_dir, train_data.fingerprint(), cfg.steps):
                sampler = load_generator(out_dir, device=device)
                sampler.reused = True  # trained by an earlier invocation: its training time is not in this run's
                return sampler
            run_dir = train(cfg, train_data, out_dir, resume=(out_dir / "checkpoints" / "last.pt").exists(), progress=False)
            return load_generator(run_dir, device=device)

        return factory

    return for_model

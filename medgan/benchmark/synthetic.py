"""Synthetic images for one fold: train the GAN once, generate one pool, reuse it for every ratio.

The pool is drawn once per fold and model (deterministic per seed); the arm with ratio ``r`` takes the
first ``ceil(r * n_c)`` images of class ``c``, so larger ratios extend smaller ones (nested sets).
Everything goes through medgan's MONAI plug-in, the code users call: the pool is drawn with
:class:`medgan.transforms.SyntheticDataset` (batched via ``as_tensors``) and cached as tensors; every
arm's training set is then built by :func:`medgan.transforms.mix_real_and_synthetic` (or, synthetic
only, a ``SyntheticDataset``) over a :class:`PoolSampler` that replays the cached images, so a mix
holds exactly the images ``mix_real_and_synthetic(real, generator, ratio, seed=pool_seed)`` would.
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import torch
from torch.utils.data import ConcatDataset, Dataset

from medgan.errors import ConfigError
from medgan.synthesis import load_generator
from medgan.training import TrainConfig, train
from medgan.transforms import SyntheticDataset, mix_real_and_synthetic
from medgan.utils.seeding import derive_seed


@dataclass
class SyntheticPool:
    """Synthetic images per class: ``images[c]`` is a float32 tensor (n_c, 1, S, S) in [-1, 1].

    Item ``j`` of class ``c`` of a generated pool is item ``(c, j)`` of
    ``SyntheticDataset(sampler, counts, seed)``; arms read the pool back through the same plug-in
    (:meth:`as_sampler`, :func:`mix_with_real`, :func:`synthetic_only`), so a filtered pool replays
    its kept images in order.
    """

    images: list[torch.Tensor]
    seed: int = 0
    class_names: list[str] | None = None

    @classmethod
    def generate(cls, sampler: Any, counts: Sequence[int], seed: int) -> "SyntheticPool":
        """Draw ``counts[c]`` images of every class ``c`` through :class:`medgan.transforms.SyntheticDataset`.

        ``sampler`` is a :class:`medgan.synthesis.GeneratorSampler` (or anything with its ``num_classes``
        and ``sample(labels, seeds)``); item ``j`` of class ``c`` has seed ``derive_seed(seed, c, j)``, so the
        first ``n`` items of a class are the same whatever the pool size.
        """
        counts = [max(0, int(n)) for n in counts]
        x, y = SyntheticDataset(sampler, counts_per_class=counts, seed=seed).as_tensors()
        x = x.float().detach().cpu()
        names = getattr(sampler, "class_names", None)
        return cls([x[y == c] for c in range(len(counts))], seed, list(names) if names is not None else None)

    def with_images(self, images: list[torch.Tensor]) -> "SyntheticPool":
        """The same pool (seed, classes) holding ``images`` instead (e.g. the filtered ones)."""
        return SyntheticPool(images, self.seed, self.class_names)

    def sizes(self) -> list[int]:
        """Images held per class."""
        return [len(x) for x in self.images]

    def as_sampler(self) -> "PoolSampler":
        """A sampler that replays this pool: seed ``derive_seed(self.seed, c, j)`` gives ``images[c][j]``."""
        return PoolSampler(self)

    def preview(self, k: int = 8) -> list[np.ndarray]:
        """Up to ``k`` images per class as numpy (k, S, S), for the report's real-vs-synthetic grid."""
        return [im[:k, 0].numpy() for im in self.images]


class PoolSampler:
    """The :class:`~medgan.synthesis.GeneratorSampler` interface over a drawn :class:`SyntheticPool`.

    ``SyntheticDataset(PoolSampler(pool), counts, seed=pool.seed)`` yields the first ``counts[c]`` pool
    images of every class, exactly (no generator runs again); asking for more than the pool holds raises.
    """

    fingerprint = "synthetic-pool"

    def __init__(self, pool: SyntheticPool) -> None:
        self.pool = pool
        self.class_names = pool.class_names or [str(c) for c in range(len(pool.images))]
        self._index: list[dict[int, int]] = []
        for c, x in enumerate(pool.images):
            index = {derive_seed(pool.seed, c, j): j for j in range(len(x))}
            if len(index) != len(x):  # pragma: no cover -- a 64-bit seed collision
                raise ValueError(f"two pool items of class {c} share a seed")
            self._index.append(index)

    @property
    def num_classes(self) -> int:
        return len(self.pool.images)

    def class_index(self, cls: int | str) -> int:
        """Index of a class given by name or index."""
        return self.class_names.index(cls) if isinstance(cls, str) else int(cls)

    def sample(self, labels: Sequence[int], seeds: Sequence[int], batch_size: int = 256) -> torch.Tensor:
        """The pool image of every (label, seed) as (N, 1, S, S); ``batch_size`` is ignored."""
        rows = []
        for c, s in zip(labels, seeds):
            c = int(c)
            j = self._index[c].get(int(s))
            if j is None:
                raise ValueError(f"the synthetic pool holds {len(self.pool.images[c])} images of class {c}; "
                                 f"seed {s} is not one of them")
            rows.append(self.pool.images[c][j])
        if not rows:
            return torch.zeros(0, *self.pool.images[0].shape[1:]) if self.pool.images else torch.zeros(0)
        return torch.stack(rows)


class RealItems(Dataset):
    """Real images as dict items ``{"image": (1, S, S), "label": int}`` (the real half of a mix)."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor) -> None:
        self.images, self.labels = images, labels

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.images[i], "label": int(self.labels[i])}


def pool_counts(pool: SyntheticPool, real_counts: Sequence[int], ratio: float) -> list[int]:
    """``ceil(ratio * n_c)`` per class, capped by what the pool holds (a filtered pool may hold fewer)."""
    return [min(int(math.ceil(ratio * int(n))), k) for n, k in zip(real_counts, pool.sizes())]


def mix_with_real(pool: SyntheticPool, real: tuple[torch.Tensor, torch.Tensor], ratio: float) -> ConcatDataset:
    """``medgan.transforms.mix_real_and_synthetic`` of the real images and ``ratio`` x the pool (capped)."""
    return mix_real_and_synthetic(RealItems(*real), pool.as_sampler(), ratio, labels=real[1], seed=pool.seed,
                                  max_per_class=pool.sizes())


def balance_with_real(pool: SyntheticPool, real: tuple[torch.Tensor, torch.Tensor]) -> ConcatDataset:
    """The real images plus synthetic ones of the smaller classes up to the largest (``balance_classes``)."""
    return mix_real_and_synthetic(RealItems(*real), pool.as_sampler(), 0.0, labels=real[1], balance_classes=True,
                                  seed=pool.seed, max_per_class=pool.sizes())


def synthetic_only(pool: SyntheticPool, counts: Sequence[int]) -> SyntheticDataset:
    """The first ``counts[c]`` pool images of every class as a :class:`~medgan.transforms.SyntheticDataset`."""
    return SyntheticDataset(pool.as_sampler(), counts_per_class=[int(n) for n in counts], seed=pool.seed,
                            keys=("image", "label"), as_metatensor=False)


def dataset_tensors(ds: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """(images, labels) of a :class:`SyntheticDataset`, a :class:`RealItems` or a mix of the two."""
    if isinstance(ds, ConcatDataset):
        parts = [dataset_tensors(d) for d in ds.datasets]
        parts = [parts[0]] + [p for p in parts[1:] if len(p[1])]
        if len(parts) == 1:
            return parts[0]
        return torch.cat([p[0].float() for p in parts]), torch.cat([p[1].long() for p in parts])
    if isinstance(ds, RealItems):
        return ds.images, ds.labels
    if isinstance(ds, SyntheticDataset):
        if len(ds) == 0:
            return torch.zeros(0), torch.zeros(0, dtype=torch.long)
        x, y = ds.as_tensors()
        return x.float(), y
    raise TypeError(f"cannot read tensors from {type(ds).__name__}")


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

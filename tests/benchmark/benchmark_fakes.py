"""Tiny data and a fake GAN factory for benchmark tests (no real GAN training)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from medgan.benchmark.classifier import ClassifierConfig
from medgan.benchmark.config import BenchmarkConfig
from medgan.data.types import PreparedData
from medgan.data.windows import IntensityWindow
from medgan.synthesis import GeneratorSampler


def small_config(**kw) -> BenchmarkConfig:
    """A benchmark config sized for :func:`tiny_data`: 2 folds, a 4-channel classifier, 10 steps."""
    base = dict(data="tiny", image_size=16, models=("cgan",), folds=2, repeats=1, ratios=(0.0, 1.0), n_boot=50, device="cpu",
                classifier=ClassifierConfig(channels=(4, 4, 8, 8), epochs=2, min_steps=10, batch_size=8))
    base.update(kw)
    return BenchmarkConfig(**base)


def tiny_data(n_per_class: int = 12, size: int = 16, n_classes: int = 2, seed: int = 0) -> PreparedData:
    """Class c has a bright square at a class-specific place; 2 images per patient."""
    rng = np.random.default_rng(seed)
    imgs, labels, patients, meta = [], [], [], []
    for c in range(n_classes):
        for i in range(n_per_class):
            x = rng.normal(-0.5, 0.2, (size, size)).astype(np.float32)
            o = 2 + 4 * c
            x[o:o + 4, o:o + 4] += 1.0 + 0.2 * rng.standard_normal()
            imgs.append(np.clip(x, -1, 1))
            labels.append(c)
            patients.append(f"c{c}p{i // 2}")
            meta.append({"source": f"tiny:{c}:{i}", "orig_size": (100 + 10 * c, 100), "format": "png", "mode": "L"})
    return PreparedData(torch.as_tensor(np.stack(imgs))[:, None], torch.as_tensor(labels, dtype=torch.long),
                        patients, [f"class{c}" for c in range(n_classes)], IntensityWindow("uint8", name="uint8"), meta)


class ClassMeanGenerator(torch.nn.Module):
    """``forward(z, y)``: the class-mean image of class ``y`` plus ``0.1 * z`` (z holds one value per pixel)."""

    def __init__(self, means: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("means", means)  # (C, 1, S, S)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (self.means[y] + 0.1 * z.view(len(z), *self.means.shape[1:])).clamp(-1, 1)


class FakeSampler(GeneratorSampler):
    """A real :class:`GeneratorSampler` over :class:`ClassMeanGenerator`: class means of its training data plus
    noise, so the benchmark draws fake images through the same plug-in as real ones; remembers its data."""

    def __init__(self, train_data: PreparedData):
        means = torch.stack([train_data.images[train_data.labels == c].mean(0)
                             for c in range(len(train_data.class_names))])
        meta = {"class_names": list(train_data.class_names), "image_size": train_data.image_size,
                "latent_dim": train_data.image_size ** 2, "window": train_data.window,
                "weights_sha256": "fake" + train_data.fingerprint(), "data_fingerprint": train_data.fingerprint(),
                "model": "fake"}
        super().__init__(ClassMeanGenerator(means), meta)
        self.seen_sources = [m["source"] for m in train_data.meta]


class FakeFactory:
    """``factory(model)(train_data, seed, out_dir)``; records every call."""

    def __init__(self):
        self.calls: list[dict] = []

    def __call__(self, model: str):
        def make(train_data: PreparedData, seed: int, out_dir: Path) -> FakeSampler:
            sampler = FakeSampler(train_data)
            self.calls.append({"model": model, "seed": seed, "sources": set(sampler.seen_sources), "out_dir": out_dir})
            return sampler

        return make


def _make_fake(model: str, train_data: PreparedData, seed: int, out_dir: Path) -> FakeSampler:
    if len(train_data) < 0:  # pragma: no cover -- never; keeps the signature of a real factory
        raise AssertionError(model, seed, out_dir)
    return FakeSampler(train_data)


def _make_failing(model: str, train_data: PreparedData, seed: int, out_dir: Path) -> FakeSampler:
    from medgan.errors import DataError

    raise DataError(f"fake {model} GAN refuses fold seed {seed}", "this is a test")


class PicklableFakeFactory:
    """Like :class:`FakeFactory` but picklable (for benchmark worker processes); records nothing."""

    def __init__(self, fail: bool = False):
        self.fail = fail

    def __call__(self, model: str):
        import functools

        return functools.partial(_make_failing if self.fail else _make_fake, model)


def _make_dying_once(model: str, marker_dir: str, dying_seed: int, train_data: PreparedData, seed: int,
                     out_dir: Path) -> FakeSampler:
    """Kills its own process (a lost cluster worker) the first time it trains fold seed ``dying_seed``."""
    import os

    marker = Path(marker_dir) / f"died_{model}_{seed}"
    if seed == dying_seed and not marker.exists():
        marker.write_text("died once")
        os._exit(1)
    return FakeSampler(train_data)


class DyingOnceFactory:
    """Picklable factory whose GAN for one fold seed kills its worker process once, then trains."""

    def __init__(self, marker_dir: Path, dying_seed: int):
        self.marker_dir, self.dying_seed = str(marker_dir), dying_seed

    def __call__(self, model: str):
        import functools

        return functools.partial(_make_dying_once, model, self.marker_dir, self.dying_seed)

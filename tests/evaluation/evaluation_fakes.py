"""Tiny synthetic image distributions for the evaluation tests (no data files, deterministic)."""
from __future__ import annotations

import torch

from medgan.data.types import PreparedData
from medgan.data.windows import IntensityWindow
from medgan.evaluation import evaluate_quality

CLASSES = ["bright", "ring"]


def blobs(n_per_class: int, seed: int, size: int = 32, prefix: str = "p") -> PreparedData:
    """Class 0: a bright filled ellipse; class 1: a ring. Random centre, radii, contrast and noise.

    Every image is its own patient (``<prefix><i>``), so real splits are independent draws.
    """
    g = torch.Generator().manual_seed(seed)
    yy, xx = torch.meshgrid(torch.arange(size).float(), torch.arange(size).float(), indexing="ij")
    images, labels = [], []
    for c in range(len(CLASSES)):
        for _ in range(n_per_class):
            cy, cx = (torch.rand(2, generator=g) * 0.4 + 0.3) * size
            ry, rx = (torch.rand(2, generator=g) * 0.15 + 0.15) * size
            r = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2
            inside = (r <= 1.0) if c == 0 else ((r <= 1.0) & (r >= 0.45))
            level = 0.3 + 0.6 * torch.rand(1, generator=g)
            img = -0.8 + inside.float() * (0.8 + level) + 0.08 * torch.randn(size, size, generator=g)
            images.append(img.clamp(-1, 1))
            labels.append(c)
    n = len(labels)
    return PreparedData(torch.stack(images).unsqueeze(1), torch.tensor(labels), [f"{prefix}{i}" for i in range(n)],
                        list(CLASSES), IntensityWindow(), [{} for _ in range(n)])


#: Images per class of the shared real sets and of fresh draws.
N_PER_CLASS = 24


def real_pair() -> tuple[PreparedData, PreparedData]:
    """The real training and held-out sets the evaluation tests share (independent draws)."""
    return blobs(N_PER_CLASS, seed=1, prefix="train"), blobs(N_PER_CLASS, seed=2, prefix="hold")


def fresh_draws() -> PreparedData:
    """A third independent draw of the real distribution: what a perfect generator would return."""
    return blobs(N_PER_CLASS, seed=3, prefix="syn")


def quick_quality(real: tuple[PreparedData, PreparedData], images: torch.Tensor, labels: torch.Tensor, **kw) -> dict:
    """``evaluate_quality`` of ``images`` against the ``real`` pair: seed 0, fast mode, no figures."""
    train, holdout = real
    return evaluate_quality(train, holdout, images, labels, seed=0, fast=True, figures=False, **kw)

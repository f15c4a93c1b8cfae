"""The non-GAN controls a synthetic arm must beat, at equal image count per class.

- :func:`duplicate_real`: the real images plus ``ratio`` x (real count) of each class drawn again from that
  class's real images (Pink & Sykes 2026: duplicating real images to the same count beat GAN synthetics);
- :func:`class_weights`: inverse-frequency weights of a weighted cross-entropy (the classic rare-class fix);
- :class:`StrongAugment` + :func:`mixup`: stronger geometric and intensity augmentation (MONAI's affine
  layer, Gaussian noise, gamma contrast) and MixUp (Zhang et al. 2018), the strongest classic recipe.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from medgan.benchmark.augment import ClassicAugment

__all__ = ["StrongAugment", "class_weights", "duplicate_real", "mixup", "weighted_loss"]


def duplicate_real(images: torch.Tensor, labels: torch.Tensor, ratio: float, n_classes: int,
                   seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The real set plus ``ceil(ratio * n_c)`` duplicates of class c's images, drawn with replacement."""
    gen = torch.Generator().manual_seed(int(seed))
    xs, ys = [images], [labels.long()]
    for c in range(n_classes):
        members = torch.nonzero(labels == c).flatten()
        extra = int(math.ceil(ratio * len(members)))
        if extra and len(members):
            pick = members[torch.randint(len(members), (extra,), generator=gen)]
            xs.append(images[pick])
            ys.append(labels[pick].long())
    return torch.cat(xs), torch.cat(ys)


def class_weights(labels: torch.Tensor, n_classes: int) -> torch.Tensor:
    """``n / (k * n_c)`` per class (1 everywhere for balanced classes; classes absent get weight 0)."""
    counts = torch.bincount(labels.long(), minlength=n_classes).float()
    present = counts > 0
    w = torch.zeros(n_classes)
    w[present] = counts.sum() / (present.sum() * counts[present])
    return w


def weighted_loss(weights: torch.Tensor):
    """Cross-entropy with per-class ``weights`` (on the logits' device)."""
    def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return nn.functional.cross_entropy(logits, target, weight=weights.to(logits.device))
    return loss


@dataclass(frozen=True)
class StrongAugment:
    """:class:`ClassicAugment` with wider ranges, always on, then Gaussian noise and a random gamma."""

    geometric: ClassicAugment = ClassicAugment(rotate_deg=25.0, zoom=0.2, translate=0.1, intensity=0.2, prob=1.0)
    noise_std: float = 0.05
    gamma: float = 0.3

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        y = self.geometric(x, generator)
        n = y.shape[0]
        g = torch.exp((torch.rand(n, generator=generator) * 2 - 1) * self.gamma).to(y.device, y.dtype).view(n, 1, 1, 1)
        y = ((y + 1) / 2).clamp_min(0).pow(g) * 2 - 1  # gamma contrast in [0, 1], back to [-1, 1]
        noise = torch.randn(y.shape, generator=generator).to(y.device, y.dtype) * self.noise_std
        return (y + noise).clamp(-1.0, 1.0)


def mixup(n_classes: int, alpha: float = 0.2):
    """``mix(x, y, generator) -> (x_mixed, soft targets)``: MixUp with Beta(alpha, alpha) weights."""
    beta = torch.distributions.Beta(torch.tensor(float(alpha)), torch.tensor(float(alpha)))

    def mix(x: torch.Tensor, y: torch.Tensor, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        n = x.shape[0]
        u = torch.rand(n, generator=generator)
        lam = _beta_from_uniform(beta, u).to(x.device, x.dtype)
        perm = torch.randperm(n, generator=generator).to(x.device)
        onehot = nn.functional.one_hot(y.long(), n_classes).to(x.dtype)
        lx = lam.view(n, 1, 1, 1)
        return lx * x + (1 - lx) * x[perm], lam.view(n, 1) * onehot + (1 - lam.view(n, 1)) * onehot[perm]

    return mix


def _beta_from_uniform(beta: torch.distributions.Beta, u: torch.Tensor) -> torch.Tensor:
    """Beta draws by inverting its CDF on a fine grid (torch's ``Beta.sample`` takes no generator; seeded
    uniforms keep MixUp reproducible)."""
    grid = torch.linspace(1e-4, 1 - 1e-4, 2001)
    cdf = torch.cumsum(beta.log_prob(grid).exp(), 0)
    cdf = cdf / cdf[-1]
    return grid[torch.searchsorted(cdf, u.clamp(0, 1)).clamp(max=len(grid) - 1)]

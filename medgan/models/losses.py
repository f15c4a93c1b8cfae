"""Adversarial losses on logits, plus the R1 and WGAN gradient penalties.

Losses: "nonsaturating" (the original minimax game with the non-saturating G loss, via softplus on
logits), "hinge" (Lim & Ye 2017 / Miyato 2018), "wgan-gp" (Gulrajani et al. 2017).
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from medgan.errors import ConfigError

LOSSES = ("nonsaturating", "hinge", "wgan-gp")


def check_loss(kind: str) -> str:
    if kind not in LOSSES:
        raise ConfigError(f"unknown loss {kind!r}", f"use one of: {', '.join(LOSSES)}")
    return kind


def d_loss(kind: str, real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """Discriminator loss (scalar) for D's logits on real and fake images."""
    if kind == "nonsaturating":
        return F.softplus(-real_logits).mean() + F.softplus(fake_logits).mean()
    if kind == "hinge":
        return F.relu(1 - real_logits).mean() + F.relu(1 + fake_logits).mean()
    if kind == "wgan-gp":
        return fake_logits.mean() - real_logits.mean()
    raise ConfigError(f"unknown loss {kind!r}", f"use one of: {', '.join(LOSSES)}")


def g_loss(kind: str, fake_logits: torch.Tensor) -> torch.Tensor:
    """Generator loss (scalar) for D's logits on fake images."""
    if kind == "nonsaturating":
        return F.softplus(-fake_logits).mean()
    if kind in ("hinge", "wgan-gp"):
        return -fake_logits.mean()
    raise ConfigError(f"unknown loss {kind!r}", f"use one of: {', '.join(LOSSES)}")


def mode_seeking(fake: torch.Tensor, z: torch.Tensor, y: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Mode-seeking term of MSGAN (Mao et al. 2019) for G to minimise: ``1 / (ratio + eps)`` where
    ``ratio`` is the mean over pairs of same-class fakes of ``mean|x1 - x2| / mean|z1 - z2|``.

    A generator that maps different noise to the same image (mode collapse) gets a large penalty.
    Pairs are neighbours after sorting the batch by label; a batch with no same-class pair gives 0.
    """
    order = torch.argsort(y, stable=True)
    ys, x, zs = y[order], fake[order].float(), z[order].float()
    same = ys[1:] == ys[:-1]
    if not bool(same.any()):
        return fake.new_zeros((), dtype=torch.float32)
    d_img = (x[1:] - x[:-1]).abs().flatten(1).mean(1)
    d_z = (zs[1:] - zs[:-1]).abs().mean(1)
    return 1.0 / ((d_img / d_z)[same].mean() + eps)


def r1_penalty(real_logits: torch.Tensor, real_images: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): mean squared norm of dD(x)/dx on real images (``real_images``
    must have ``requires_grad``). Multiply by gamma/2 yourself."""
    (grad,) = torch.autograd.grad(real_logits.sum(), real_images, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


def gradient_penalty(d_fn: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor, fake: torch.Tensor,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """WGAN-GP penalty E[(||dD(x_hat)/dx_hat|| - 1)^2] on random interpolates of real and fake.
    Multiply by lambda (10) yourself."""
    alpha = torch.rand((real.shape[0], 1, 1, 1), generator=generator, device=real.device).to(real.dtype)
    x_hat = (alpha * real.detach() + (1 - alpha) * fake.detach()).requires_grad_(True)
    (grad,) = torch.autograd.grad(d_fn(x_hat).sum(), x_hat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1).pow(2).mean()


def lecam(real_logits: torch.Tensor, fake_logits: torch.Tensor, ema_real: float, ema_fake: float) -> torch.Tensor:
    """LeCam regularizer (Tseng et al. CVPR 2021), in the reference implementation's one-sided form.

    ``mean(relu(D(x) - ema_fake)^2) + mean(relu(ema_real - D(G(z)))^2)``: keeps D's real and fake
    predictions from drifting apart beyond the moving averages of each other, which on limited data
    bounds D's overconfidence (the cause of its overfitting).
    """
    return F.relu(real_logits - ema_fake).pow(2).mean() + F.relu(ema_real - fake_logits).pow(2).mean()


"""Curation of a fold's synthetic pool by the fold's real-trained (baseline) classifiers.

- :func:`confidence_filter`: keep a synthetic image of class c when the classifiers' mean probability of
  c is at least ``q_c``, the ``quantile`` (20th percentile) of that probability over the inner-validation
  *real* images of c -- so q is set on inner validation and 80 % of real images would pass (Han et al.
  2019 and Xue et al. 2019 discard poor samples by a real-trained model's judgement).
- :func:`proximity_filter`: keep a synthetic image when its distance to the nearest real inner-training
  image of its class, in the classifier's penultimate features, lies inside the 5th-95th percentile
  range of the real images' own leave-one-out nearest-neighbour distances: near-copies (closer than
  real images are to each other) and outliers go.

Both keep the pool's order (smaller ratios take a prefix of larger ones) and return
``{"drawn": [...], "kept": [...]}`` per class plus the thresholds used.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from medgan.benchmark.classifier import predict_proba
from medgan.benchmark.synthetic import SyntheticPool

__all__ = ["confidence_filter", "penultimate_features", "proximity_filter"]


def _mean_proba(models: list[nn.Module], x: torch.Tensor, device: torch.device) -> np.ndarray:
    return np.mean([predict_proba(m, x, device) for m in models], axis=0)


def confidence_filter(pool: SyntheticPool, models: list[nn.Module], val_x: torch.Tensor, val_y: torch.Tensor,
                      device: torch.device, quantile: float = 0.2) -> tuple[SyntheticPool, dict[str, Any]]:
    """Keep synthetic images whose own-class probability reaches the real validation images' ``quantile``."""
    val_p = _mean_proba(models, val_x, device) if len(val_y) else np.zeros((0, len(pool.images)))
    y = val_y.numpy()
    q = [float(np.quantile(val_p[y == c, c], quantile)) if np.any(y == c) else 0.5 for c in range(len(pool.images))]
    keep = []
    for c, x in enumerate(pool.images):
        keep.append(torch.as_tensor(_mean_proba(models, x, device)[:, c] >= q[c]) if len(x)
                    else torch.zeros(0, dtype=torch.bool))
    return _kept(pool, keep, {"q": q, "quantile": quantile})


@torch.no_grad()
def penultimate_features(model: nn.Module, images: torch.Tensor, device: torch.device, chunk: int = 256) -> torch.Tensor:
    """The input of ``model``'s last linear layer for ``images`` (N, D), float64 on the CPU."""
    last = [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
    captured: list[torch.Tensor] = []
    hook = last.register_forward_hook(lambda mod, inp, out: captured.append(inp[0].detach().flatten(1).cpu()))
    try:
        model.eval()
        for i in range(0, len(images), chunk):
            model(images[i:i + chunk].to(device))
    finally:
        hook.remove()
    return torch.cat(captured).double() if captured else torch.zeros(0, last.in_features, dtype=torch.float64)


def proximity_filter(pool: SyntheticPool, models: list[nn.Module], real_x: torch.Tensor, real_y: torch.Tensor,
                     device: torch.device, low: float = 5.0, high: float = 95.0) -> tuple[SyntheticPool, dict[str, Any]]:
    """Keep synthetic images whose nearest-real distance lies in the real images' own NN-distance range."""
    model = models[0]
    real_f = penultimate_features(model, real_x, device)
    keep, ranges = [], []
    for c, x in enumerate(pool.images):
        ref = real_f[real_y == c]
        if len(x) == 0 or len(ref) < 2:
            keep.append(torch.ones(len(x), dtype=torch.bool))
            ranges.append(None)
            continue
        own = torch.cdist(ref, ref)
        own.fill_diagonal_(float("inf"))
        lo, hi = np.percentile(own.min(1).values.numpy(), [low, high])
        d = torch.cdist(penultimate_features(model, x, device), ref).min(1).values.numpy()
        keep.append(torch.as_tensor((d >= lo) & (d <= hi)))
        ranges.append([float(lo), float(hi)])
    return _kept(pool, keep, {"nn_distance_range": ranges, "percentiles": [low, high]})


def _kept(pool: SyntheticPool, keep: list[torch.Tensor], extra: dict[str, Any]) -> tuple[SyntheticPool, dict[str, Any]]:
    return (pool.with_images([x[k] for x, k in zip(pool.images, keep)]),
            {"drawn": [len(x) for x in pool.images], "kept": [int(k.sum()) for k in keep], **extra})

"""Diversity / mode collapse: mean pairwise MS-SSIM within a set of images (MONAI ``MultiScaleSSIMMetric``).

A collapsed generator produces near-identical images, so its within-set MS-SSIM approaches 1; a
healthy one should sit near the value measured within the real images of the same class.

MS-SSIM configuration for small images: MONAI's default (5 scales, 11x11 kernel) requires the image
side to exceed ``(kernel - 1) * (scales - 1) ** 2`` = 160 pixels. At 64x64 we use **3 scales**
(64 -> 32 -> 16 pixels) with the first three standard weights renormalised to sum to 1
(0.0448, 0.2856, 0.3001) / 0.6305 and a **7x7 Gaussian kernel (sigma 1.5)**. Images are mapped from
[-1, 1] to [0, 1] (``data_range=1``). Fewer scales and a smaller kernel are chosen automatically for
smaller images (see :func:`ms_ssim_config`).
"""
from __future__ import annotations

import numpy as np
import torch
from monai.metrics import MultiScaleSSIMMetric

__all__ = ["ms_ssim_config", "pairwise_ms_ssim", "mean_pairwise_ms_ssim"]

_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ms_ssim_config(image_size: int) -> dict:
    """Number of scales, weights and kernel size that MONAI's MS-SSIM accepts at ``image_size``."""
    for scales in (3, 2, 1):
        div = max(1, scales - 1) ** 2
        for kernel in (7, 5, 3):
            if image_size // div > kernel - 1 and image_size // (2 ** (scales - 1)) >= kernel:
                w = np.asarray(_WEIGHTS[:scales], dtype=np.float64)
                return {"scales": scales, "kernel_size": kernel, "kernel_sigma": 1.5,
                        "weights": tuple(float(v) for v in w / w.sum())}
    raise ValueError(f"image size {image_size} is too small for MS-SSIM")


def pairwise_ms_ssim(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of each pair ``(a[i], b[i])`` of (P, 1, S, S) images in [-1, 1]; returns (P,)."""
    cfg = ms_ssim_config(int(a.shape[-1]))
    metric = MultiScaleSSIMMetric(spatial_dims=2, data_range=1.0, kernel_size=cfg["kernel_size"],
                                  kernel_sigma=cfg["kernel_sigma"], weights=cfg["weights"], reduction="none")
    x = ((a.float() + 1.0) / 2.0).clamp(0, 1)
    y = ((b.float() + 1.0) / 2.0).clamp(0, 1)
    return metric(x, y).view(-1)


def mean_pairwise_ms_ssim(images: torch.Tensor, max_pairs: int = 300, seed: int = 0) -> float:
    """Mean MS-SSIM over distinct pairs of ``images`` (all pairs, or ``max_pairs`` drawn with ``seed``).

    Returns NaN for fewer than two images. Higher = less diverse (1 = all identical).
    """
    n = int(images.shape[0])
    if n < 2:
        return float("nan")
    iu, ju = np.triu_indices(n, k=1)
    if iu.size > max_pairs:
        pick = np.random.default_rng(int(seed)).choice(iu.size, size=int(max_pairs), replace=False)
        iu, ju = iu[pick], ju[pick]
    vals = []
    for s in range(0, iu.size, 256):
        i, j = torch.as_tensor(iu[s:s + 256]), torch.as_tensor(ju[s:s + 256])
        vals.append(pairwise_ms_ssim(images[i], images[j]))
    return float(torch.cat(vals).mean())

"""Classic augmentation for the benchmark classifier: random flips, rotation, zoom, shift, intensity.

Applied to whole batches on the training device with MONAI's ``AffineTransform`` layer (one random
affine matrix per image) -- per-image Python transforms cost as much as the network step on a CPU.
Every arm (baseline, real + synthetic, synthetic only) trains through the same augmentation, so the
only difference between arms is which images enter it. Images are (N, 1, S, S) tensors in [-1, 1].
Randomness comes only from the ``torch.Generator`` passed in.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from monai.networks.layers import AffineTransform


@dataclass(frozen=True)
class ClassicAugment:
    """Random horizontal flip, rotation, zoom, translation and intensity scale/shift, batched.

    Args:
        flip_prob: probability of a left-right flip.
        rotate_deg: rotation drawn uniformly in +-``rotate_deg`` degrees.
        zoom: isotropic scale drawn in [1 - zoom, 1 + zoom].
        translate: shift as a fraction of the image side, uniform in +-``translate``.
        intensity: multiplicative and additive intensity jitter, uniform in +-``intensity``.
        prob: probability that an image gets the geometric + intensity jitter at all (flip aside).
    """

    flip_prob: float = 0.5
    rotate_deg: float = 15.0
    zoom: float = 0.1
    translate: float = 0.06
    intensity: float = 0.1
    prob: float = 0.8

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Augmented copy of ``x`` (N, C, H, W); parameters drawn from ``generator`` on the CPU."""
        n = x.shape[0]
        u = lambda *s: torch.rand(*s, generator=generator)  # noqa: E731
        on = (u(n) < self.prob).float()
        ang = (u(n) * 2 - 1) * math.radians(self.rotate_deg) * on
        scale = 1.0 + (u(n) * 2 - 1) * self.zoom * on
        shift = (u(n, 2) * 2 - 1) * 2 * self.translate * on[:, None]  # normalised coords span 2
        flip = torch.where(u(n) < self.flip_prob, -1.0, 1.0)
        cos, sin = torch.cos(ang) / scale, torch.sin(ang) / scale
        # rows/cols of theta follow (H, W) (MONAI reverse_indexing): the flip negates the W column
        theta = torch.stack([torch.stack([cos, -sin * flip, shift[:, 0]], 1),
                             torch.stack([sin, cos * flip, shift[:, 1]], 1)], 1).to(x.device, x.dtype)
        warp = AffineTransform(normalized=True, padding_mode="border", align_corners=False)
        y = warp(x, theta)
        gain = (1.0 + (u(n) * 2 - 1) * self.intensity * on).to(x.device, x.dtype).view(n, 1, 1, 1)
        bias = ((u(n) * 2 - 1) * self.intensity * on).to(x.device, x.dtype).view(n, 1, 1, 1)
        return (y * gain + bias).clamp(-1.0, 1.0)

"""DiffAugment (Zhao et al. 2020) for single-channel CT in [-1, 1].

Small pure differentiable functions chosen by a policy string ("translation,cutout" ...), applied to
real and fake images alike before D. Randomness comes from an explicit ``torch.Generator``.
Colour/saturation are meaningless on CT; brightness/contrast are mild. Translation pads and cutout
fills with -1 (air / background) rather than mid-grey.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from medgan.errors import ConfigError

AugFn = Callable[[torch.Tensor, "torch.Generator | None"], torch.Tensor]
BACKGROUND = -1.0


def _rand(shape: tuple[int, ...], x: torch.Tensor, gen: torch.Generator | None) -> torch.Tensor:
    return torch.rand(shape, generator=gen, device=x.device, dtype=torch.float32).to(x.dtype)


def brightness(x: torch.Tensor, gen: torch.Generator | None = None, strength: float = 0.1) -> torch.Tensor:
    """Add a per-image offset in [-strength, strength]."""
    return x + (_rand((x.shape[0], 1, 1, 1), x, gen) * 2 - 1) * strength


def contrast(x: torch.Tensor, gen: torch.Generator | None = None, strength: float = 0.2) -> torch.Tensor:
    """Scale each image around its mean by a factor in [1 - strength, 1 + strength]."""
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (1 + (_rand((x.shape[0], 1, 1, 1), x, gen) * 2 - 1) * strength) + mean


def translation(x: torch.Tensor, gen: torch.Generator | None = None, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size in x and y, filling with background."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen, device=x.device)
    tx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen, device=x.device)
    gb, gy, gx = torch.meshgrid(torch.arange(n, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gy = torch.clamp(gy + ty + 1, 0, h + 1)
    gx = torch.clamp(gx + tx + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1], value=BACKGROUND)
    return padded.permute(0, 2, 3, 1)[gb, gy, gx].permute(0, 3, 1, 2).contiguous()


def cutout(x: torch.Tensor, gen: torch.Generator | None = None, ratio: float = 0.5) -> torch.Tensor:
    """Blank one square of ``ratio`` x size at a random place in each image (filled with background)."""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    oy = torch.randint(0, h + (1 - ch % 2), (n, 1, 1), generator=gen, device=x.device)
    ox = torch.randint(0, w + (1 - cw % 2), (n, 1, 1), generator=gen, device=x.device)
    ys = torch.arange(h, device=x.device).view(1, h, 1)
    xs = torch.arange(w, device=x.device).view(1, 1, w)
    top, left = oy - ch // 2, ox - cw // 2
    inside = (ys >= top) & (ys < top + ch) & (xs >= left) & (xs < left + cw)
    mask = (~inside).unsqueeze(1).to(x.dtype)
    return x * mask + BACKGROUND * (1 - mask)


AUGMENTATIONS: dict[str, AugFn] = {
    "brightness": brightness, "contrast": contrast, "translation": translation, "cutout": cutout,
}


def parse_policy(policy: str | None) -> list[str]:
    """``"translation,cutout"`` -> ["translation", "cutout"]; "" / None / "none" -> []."""
    if not policy or policy.strip().lower() == "none":
        return []
    names = [p.strip() for p in policy.split(",") if p.strip()]
    bad = [p for p in names if p not in AUGMENTATIONS]
    if bad:
        raise ConfigError(f"unknown DiffAugment op(s) {bad}", f"use a comma list of {', '.join(AUGMENTATIONS)}")
    return names


class DiffAugment:
    """Apply a DiffAugment policy; the same object (and generator) serves real and fake batches.

    Args:
        policy: comma-separated ops, e.g. "translation,cutout"; empty = identity.
    """

    def __init__(self, policy: str | None = "translation,cutout") -> None:
        self.ops = [AUGMENTATIONS[n] for n in parse_policy(policy)]
        self.policy = ",".join(parse_policy(policy))

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        for op in self.ops:
            x = op(x, generator)
        return x

    def __bool__(self) -> bool:
        return bool(self.ops)

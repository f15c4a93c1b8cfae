"""Small building blocks shared by the GANs: conditional batch norm, spectral-norm wrapping, DCGAN init."""
from __future__ import annotations

import math

import torch
from torch import nn

from medgan.errors import ConfigError


def check_image_size(image_size: int) -> int:
    """Number of 2x up/down-sampling stages between 4x4 and ``image_size`` (a power of two >= 16)."""
    n = math.log2(image_size) if image_size > 0 else 0
    if image_size < 16 or n != int(n):
        raise ConfigError(f"image_size must be a power of two >= 16, got {image_size}", "use 64 (default) or 128")
    return int(n) - 2


def channel_mults(n_stages: int, cap: int = 8) -> list[int]:
    """Channel multipliers from the 4x4 stage upward, e.g. 4 stages -> [8, 4, 2, 1]; 5 -> [8, 8, 4, 2, 1]."""
    return [min(cap, 2 ** (n_stages - 1 - i)) for i in range(n_stages)]


def maybe_sn(module: nn.Module, enabled: bool) -> nn.Module:
    """Wrap ``module`` with spectral normalisation (torch parametrization) when ``enabled``."""
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


def make_norm(kind: str, channels: int) -> nn.Module:
    """``"batch"`` -> BatchNorm2d, ``"none"`` -> Identity (use with spectral norm)."""
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "none":
        return nn.Identity()
    raise ConfigError(f"unknown norm {kind!r}", "use 'batch' or 'none'")


class ConditionalBatchNorm2d(nn.Module):
    """Batch norm without affine parameters followed by a per-class scale and shift (de Vries 2017).

    Args:
        num_features: channels.
        num_classes: number of classes (rows of the gain/bias embeddings).
    """

    def __init__(self, num_features: int, num_classes: int) -> None:
        super().__init__()
        self.bn = nn.BatchNorm2d(num_features, affine=False)
        self.gain = nn.Embedding(num_classes, num_features)
        self.bias = nn.Embedding(num_classes, num_features)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    #: 1 = fully class-conditional (the default); 0 = every class uses the class-mean scale and shift (an
    #: unconditional layer). Transitional training (Shahbazi et al. ICLR 2022) ramps it from 0 to 1.
    condition_strength: float = 1.0

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.bn(x)
        gain, bias = self.gain(y), self.bias(y)
        lam = float(self.condition_strength)
        if lam < 1.0:
            g_mean, b_mean = self.gain.weight.mean(0), self.bias.weight.mean(0)
            gain, bias = g_mean + lam * (gain - g_mean), b_mean + lam * (bias - b_mean)
        return out * gain[:, :, None, None] + bias[:, :, None, None]


def set_condition_strength(module: nn.Module, strength: float) -> None:
    """Set how much class labels steer every conditional layer of ``module`` (0 = none, 1 = fully)."""
    for m in module.modules():
        if hasattr(type(m), "condition_strength"):
            m.condition_strength = float(strength)


def _raw_weight(m: nn.Module) -> torch.Tensor:
    """The trainable weight tensor, looking through a spectral-norm parametrization."""
    return m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight


@torch.no_grad()
def dcgan_init_(module: nn.Module, generator: torch.Generator | None = None) -> nn.Module:
    """Radford et al. init, drawn from an explicit ``generator`` (no global RNG): conv/linear/embedding
    weights ~ N(0, 0.02), biases 0, batch-norm scales ~ N(1, 0.02); conditional-BN gains 1 and shifts 0.
    Spectral-norm power-iteration vectors are redrawn from the same generator. Returns ``module``."""
    cbn_embeddings = set()
    for m in module.modules():
        if isinstance(m, ConditionalBatchNorm2d):
            nn.init.ones_(m.gain.weight)
            nn.init.zeros_(m.bias.weight)
            cbn_embeddings.update({id(m.gain), id(m.bias)})
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)) or (
                isinstance(m, nn.Embedding) and id(m) not in cbn_embeddings):
            nn.init.normal_(_raw_weight(m), 0.0, 0.02, generator=generator)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
            if hasattr(m, "parametrizations"):
                sn = m.parametrizations.weight[0]
                for name in ("_u", "_v"):
                    buf = getattr(sn, name, None)
                    if buf is not None:
                        buf.normal_(0.0, 1.0, generator=generator)
                        buf.div_(buf.norm().clamp_min(1e-12))
        elif isinstance(m, nn.BatchNorm2d) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02, generator=generator)
            nn.init.zeros_(m.bias)
    return module

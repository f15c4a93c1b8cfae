"""DCGAN (Radford et al. 2016) and the per-class bank used by Frid-Adar et al. 2018.

``PerClassGenerator`` holds one DCGAN generator per class and routes each sample by its label, so it
has the same ``forward(z, y)`` as the conditional generator. ``PerClassDiscriminator`` does the same
for discriminators: training the bank trains K independent GANs in one loop.
"""
from __future__ import annotations

import torch
from torch import nn

from medgan.models.layers import channel_mults, check_image_size, make_norm, maybe_sn


class DCGANGenerator(nn.Module):
    """Unconditional DCGAN generator: ``z (N, latent_dim) -> (N, 1, S, S)`` in [-1, 1].

    Args:
        latent_dim: size of z.
        image_size: output side S (power of two >= 16).
        ngf: channels of the last hidden stage (stages above have 2x, 4x, 8x).
        out_channels: image channels (1 for CT).
    """

    def __init__(self, latent_dim: int = 100, image_size: int = 64, ngf: int = 64, out_channels: int = 1) -> None:
        super().__init__()
        self.latent_dim = latent_dim
        mults = channel_mults(check_image_size(image_size))
        ch = ngf * mults[0]
        layers: list[nn.Module] = [nn.ConvTranspose2d(latent_dim, ch, 4, 1, 0, bias=False), nn.BatchNorm2d(ch), nn.ReLU(True)]
        for m in mults[1:]:  # 4x4 -> ... -> S/2 x S/2
            layers += [nn.ConvTranspose2d(ch, ngf * m, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * m), nn.ReLU(True)]
            ch = ngf * m
        layers += [nn.ConvTranspose2d(ch, out_channels, 4, 2, 1), nn.Tanh()]  # S x S
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.net(z.reshape(z.shape[0], self.latent_dim, 1, 1))


class DCGANEncoder(nn.Module):
    """DCGAN discriminator trunk: ``(N, 1, S, S) -> (N, C, 4, 4)`` features (strided convs, LeakyReLU 0.2).

    Args:
        image_size: input side S.
        ndf: channels of the first stage (then 2x, 4x, 8x, capped at 8x).
        in_channels: image channels.
        norm: "batch" (Radford) or "none" (use with spectral norm).
        spectral_norm: wrap every conv in spectral normalisation.
        mbstd: append a minibatch-standard-deviation feature map (Karras et al. 2018) so D can see
            a lack of diversity in a batch of fakes -- the classic remedy for mode collapse.
    """

    def __init__(self, image_size: int = 64, ndf: int = 64, in_channels: int = 1, norm: str = "batch",
                 spectral_norm: bool = False, mbstd: bool = False) -> None:
        super().__init__()
        mults = channel_mults(check_image_size(image_size))[::-1]  # e.g. [1, 2, 4, 8]
        ch = ndf * mults[0]
        layers: list[nn.Module] = [maybe_sn(nn.Conv2d(in_channels, ch, 4, 2, 1), spectral_norm), nn.LeakyReLU(0.2, True)]
        for m in mults[1:]:
            layers += [maybe_sn(nn.Conv2d(ch, ndf * m, 4, 2, 1, bias=norm == "none"), spectral_norm),
                       make_norm(norm, ndf * m), nn.LeakyReLU(0.2, True)]
            ch = ndf * m
        self.net = nn.Sequential(*layers)
        self.mbstd = mbstd
        self.out_channels = ch + int(mbstd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.net(x)
        return torch.cat([h, minibatch_stddev(h)], dim=1) if self.mbstd else h


def minibatch_stddev(h: torch.Tensor, group_size: int = 4) -> torch.Tensor:
    """One feature map holding, for each sample, the mean feature std within its group of samples.

    Groups are consecutive samples (so a batch of reals followed by a batch of fakes of a size divisible
    by the group size never mixes the two); the group shrinks to 2 or 1 when the batch is not divisible.
    """
    n, _, hh, ww = h.shape
    g = next(s for s in (group_size, 2, 1) if n % s == 0)
    if g == 1:
        return h.new_zeros(n, 1, hh, ww)
    grouped = h.float().contiguous().reshape(n // g, g, *h.shape[1:])  # consecutive samples form a group
    # the variance written out: torch's var over the group dimension ran 4x slower on CPU (measured)
    centred = grouped - grouped.mean(dim=1, keepdim=True)
    std = (centred.square().mean(dim=1) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # (n // g,)
    return std.repeat_interleave(g).reshape(n, 1, 1, 1).expand(n, 1, hh, ww).to(h.dtype)


class DCGANDiscriminator(nn.Module):
    """Unconditional DCGAN discriminator returning logits ``(N,)``."""

    def __init__(self, image_size: int = 64, ndf: int = 64, in_channels: int = 1, norm: str = "batch",
                 spectral_norm: bool = False, mbstd: bool = False) -> None:
        super().__init__()
        self.trunk = DCGANEncoder(image_size, ndf, in_channels, norm, spectral_norm, mbstd)
        self.head = maybe_sn(nn.Conv2d(self.trunk.out_channels, 1, 4, 1, 0), spectral_norm)  # 4x4 -> 1x1

    def forward(self, x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
        return self.head(self.trunk(x)).reshape(x.shape[0])


def _route(nets: nn.ModuleList, y: torch.Tensor, inputs: torch.Tensor, out_shape: tuple[int, ...]) -> torch.Tensor:
    """Run ``nets[c]`` on the samples with label c and put the results back in batch order."""
    out = inputs.new_zeros(out_shape)
    for c, net in enumerate(nets):
        idx = (y == c).nonzero(as_tuple=True)[0]
        if idx.numel():
            out = out.index_copy(0, idx, net(inputs.index_select(0, idx)).to(out.dtype))
    return out


class PerClassGenerator(nn.Module):
    """One DCGAN generator per class; ``forward(z, y)`` routes each sample to its class's generator.

    Args:
        num_classes: number of classes (one generator each).
        latent_dim, image_size, ngf, out_channels: see :class:`DCGANGenerator`.
    """

    def __init__(self, num_classes: int, latent_dim: int = 100, image_size: int = 64, ngf: int = 64,
                 out_channels: int = 1) -> None:
        super().__init__()
        self.num_classes, self.latent_dim, self.image_size, self.out_channels = num_classes, latent_dim, image_size, out_channels
        self.generators = nn.ModuleList(
            [DCGANGenerator(latent_dim, image_size, ngf, out_channels) for _ in range(num_classes)])

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        n = z.shape[0]
        return _route(self.generators, y, z, (n, self.out_channels, self.image_size, self.image_size))


class PerClassDiscriminator(nn.Module):
    """One DCGAN discriminator per class; ``forward(x, y) -> (N,)`` logits, each from its class's D."""

    def __init__(self, num_classes: int, image_size: int = 64, ndf: int = 64, in_channels: int = 1,
                 norm: str = "batch", spectral_norm: bool = False, mbstd: bool = False) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.discriminators = nn.ModuleList(
            [DCGANDiscriminator(image_size, ndf, in_channels, norm, spectral_norm, mbstd) for _ in range(num_classes)])

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return _route(self.discriminators, y, x, (x.shape[0],))

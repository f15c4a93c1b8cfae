"""A FastGAN-style class-conditional GAN (Liu et al. ICLR 2021), sized for 64x64 CT slices.

FastGAN was built for few-hundred-image sets on one GPU; its two ingredients are kept:

- **Skip-layer excitation (SLE)** in the generator: a 4x4 feature map gates the channels of the
  16x16 map, an 8x8 map gates the 32x32 map (global structure steers local texture, a cheap
  long-range connection).
- **A self-supervised discriminator**: a small decoder reconstructs each *real* image (at half size)
  from D's 8x8 feature map; the reconstruction loss forces D to keep a description of the whole image
  instead of a few features that separate real from fake, which is what overfits on small data.

Class conditioning, as in the projection cGAN: conditional batch norm in G (so transitional
conditioning applies unchanged) and a projection term in D. Up-sampling is nearest + 3x3 conv + GLU.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from medgan.models.dcgan import minibatch_stddev
from medgan.models.layers import ConditionalBatchNorm2d, check_image_size, maybe_sn


class SkipLayerExcitation(nn.Module):
    """Channel gates for a high-resolution map computed from a low-resolution one (FastGAN's SLE)."""

    def __init__(self, low_channels: int, high_channels: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.AdaptiveAvgPool2d(4), nn.Conv2d(low_channels, high_channels, 4, 1, 0, bias=False),
                                 nn.SiLU(), nn.Conv2d(high_channels, high_channels, 1, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, low: torch.Tensor, high: torch.Tensor) -> torch.Tensor:
        return high * self.net(low)


class _UpBlock(nn.Module):
    """Nearest 2x up-sampling, 3x3 conv to 2C channels, conditional BN, GLU -> C channels."""

    def __init__(self, c_in: int, c_out: int, num_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, 2 * c_out, 3, 1, 1, bias=False)
        self.norm = ConditionalBatchNorm2d(2 * c_out, num_classes)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return F.glu(self.norm(self.conv(F.interpolate(h, scale_factor=2.0, mode="nearest")), y), dim=1)


class FastGANGenerator(nn.Module):
    """``forward(z (N, latent_dim), y (N,)) -> (N, 1, S, S)`` in [-1, 1], with skip-layer excitation.

    Args:
        num_classes: number of classes.
        latent_dim: size of z.
        image_size: output side S (power of two >= 16).
        ngf: channels of the highest-resolution stage (lower stages: up to 8x).
        out_channels: image channels.
    """

    def __init__(self, num_classes: int, latent_dim: int = 128, image_size: int = 64, ngf: int = 32,
                 out_channels: int = 1) -> None:
        super().__init__()
        self.num_classes, self.latent_dim = num_classes, latent_dim
        n_up = check_image_size(image_size)  # 4 -> S takes n_up doublings
        chans = [ngf * min(8, 2 ** (n_up - i)) for i in range(n_up + 1)]  # channels at 4, 8, ..., S
        self.init = nn.ConvTranspose2d(latent_dim, 2 * chans[0], 4, 1, 0, bias=False)
        self.init_norm = ConditionalBatchNorm2d(2 * chans[0], num_classes)
        self.ups = nn.ModuleList(_UpBlock(a, b, num_classes) for a, b in zip(chans[:-1], chans[1:]))
        #: (source stage, target stage) pairs: 4x4 -> 16x16, 8x8 -> 32x32 (when those stages exist)
        self.sle_pairs = [(s, s + 2) for s in (0, 1) if s + 2 < len(chans)]
        self.sles = nn.ModuleList(SkipLayerExcitation(chans[a], chans[b]) for a, b in self.sle_pairs)
        self.to_image = nn.Conv2d(chans[-1], out_channels, 3, 1, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = F.glu(self.init_norm(self.init(z.reshape(z.shape[0], self.latent_dim, 1, 1)), y), dim=1)
        feats = [h]
        for i, up in enumerate(self.ups, start=1):
            h = up(h, y)
            for (src, dst), sle in zip(self.sle_pairs, self.sles):
                if dst == i:
                    h = sle(feats[src], h)
            feats.append(h)
        return torch.tanh(self.to_image(h))


class FastGANDiscriminator(nn.Module):
    """Strided-conv trunk to 4x4, projection head, and a decoder that reconstructs real images.

    ``forward(x, y) -> (N,)`` logits; ``forward(x, y, return_features=True) -> (logits, feat8)`` where
    ``feat8`` is the 8x8 feature map that :meth:`reconstruct` decodes to an (N, 1, S/2, S/2) image.

    Args:
        num_classes: number of classes.
        image_size: input side S.
        ndf: channels of the first stage (doubled per stage, capped at 8x).
        in_channels: image channels.
        spectral_norm: spectral normalisation on every conv/linear/embedding of the trunk and head.
        mbstd: minibatch-standard-deviation feature before the head.
    """

    #: weight of the class projection term (see :func:`medgan.models.layers.set_condition_strength`).
    condition_strength: float = 1.0

    def __init__(self, num_classes: int, image_size: int = 64, ndf: int = 32, in_channels: int = 1,
                 spectral_norm: bool = True, mbstd: bool = True) -> None:
        super().__init__()
        n_down = check_image_size(image_size)
        chans = [ndf * min(8, 2 ** i) for i in range(n_down)]  # at S/2, S/4, ..., 4
        layers, c_in = [], in_channels
        for c in chans:
            layers.append(nn.Sequential(maybe_sn(nn.Conv2d(c_in, c, 4, 2, 1), spectral_norm), nn.LeakyReLU(0.2, True)))
            c_in = c
        self.downs = nn.ModuleList(layers)
        self.feat8_index = n_down - 2  # the block whose output is 8x8
        self.mbstd = mbstd
        ch = chans[-1] + int(mbstd)
        self.linear = maybe_sn(nn.Linear(ch, 1), spectral_norm)
        self.embed = maybe_sn(nn.Embedding(num_classes, ch), spectral_norm)
        c8, dec = chans[self.feat8_index], []
        for _ in range(max(n_down - 2, 1)):  # 8 -> S/2: n_down - 2 doublings
            dec += [nn.Upsample(scale_factor=2.0, mode="nearest"), nn.Conv2d(c8, max(c8 // 2, 8), 3, 1, 1),
                    nn.LeakyReLU(0.2, True)]
            c8 = max(c8 // 2, 8)
        self.decoder = nn.Sequential(*dec, nn.Conv2d(c8, in_channels, 3, 1, 1), nn.Tanh())

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_features: bool = False):
        h, feat8 = x, None
        for i, block in enumerate(self.downs):
            h = block(h)
            if i == self.feat8_index:
                feat8 = h
        if self.mbstd:
            h = torch.cat([h, minibatch_stddev(h)], dim=1)
        pooled = h.sum(dim=(2, 3))
        projection = (self.embed(y) * pooled).sum(1)
        lam = float(self.condition_strength)
        logits = self.linear(pooled).squeeze(1) + (projection if lam == 1.0 else lam * projection)
        return (logits, feat8) if return_features else logits

    def reconstruct(self, feat8: torch.Tensor) -> torch.Tensor:
        """Decode 8x8 features to an (N, 1, S/2, S/2) image in [-1, 1]."""
        return self.decoder(feat8)


def reconstruction_loss(D: FastGANDiscriminator, feat8: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """L1 between D's decoding of real images' features and the real images at half size."""
    recon = D.reconstruct(feat8)
    target = F.interpolate(real.float(), size=recon.shape[-2:], mode="area")
    return (recon.float() - target).abs().mean()

"""Class-conditional GAN: conditional-batch-norm generator + projection discriminator
(Miyato & Koyama 2018), with an optional auxiliary-classifier (AC-GAN) head on D."""
from __future__ import annotations

import torch
from torch import nn

from medgan.models.dcgan import DCGANEncoder
from medgan.models.layers import ConditionalBatchNorm2d, channel_mults, check_image_size, maybe_sn


class ConditionalGenerator(nn.Module):
    """DCGAN-shaped generator whose batch norms take a per-class scale/shift.

    ``forward(z (N, latent_dim), y int64 (N,)) -> (N, 1, S, S)`` in [-1, 1].

    Args:
        num_classes: number of classes.
        latent_dim: size of z.
        image_size: output side S (power of two >= 16).
        ngf: channels of the last hidden stage.
        out_channels: image channels.
    """

    def __init__(self, num_classes: int, latent_dim: int = 128, image_size: int = 64, ngf: int = 64,
                 out_channels: int = 1) -> None:
        super().__init__()
        self.num_classes, self.latent_dim = num_classes, latent_dim
        mults = channel_mults(check_image_size(image_size))
        chans = [ngf * m for m in mults]
        self.convs = nn.ModuleList([nn.ConvTranspose2d(latent_dim, chans[0], 4, 1, 0, bias=False)])  # 1 -> 4
        self.convs.extend(nn.ConvTranspose2d(a, b, 4, 2, 1, bias=False) for a, b in zip(chans[:-1], chans[1:]))
        self.norms = nn.ModuleList(ConditionalBatchNorm2d(c, num_classes) for c in chans)
        self.act = nn.ReLU(True)
        self.to_image = nn.ConvTranspose2d(chans[-1], out_channels, 4, 2, 1)

    def forward(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        h = z.reshape(z.shape[0], self.latent_dim, 1, 1)
        for conv, norm in zip(self.convs, self.norms):
            h = self.act(norm(conv(h), y))
        return torch.tanh(self.to_image(h))


class ProjectionDiscriminator(nn.Module):
    """DCGAN trunk + global sum pooling + projection of the class embedding (Miyato & Koyama 2018).

    ``forward(x, y) -> (N,)`` logits; with ``ac_head`` and ``return_class_logits=True`` it returns
    ``(logits, class_logits (N, K))`` for the AC-GAN loss.

    Args:
        num_classes: number of classes.
        image_size: input side S.
        ndf: channels of the first stage.
        in_channels: image channels.
        norm: "none" (default, with spectral norm) or "batch".
        spectral_norm: spectral normalisation on every conv/linear/embedding.
        ac_head: add an auxiliary classifier head.
        n_codes: > 0 adds InfoGAN's code head (``forward(..., return_codes=True) -> (logits, codes)``).
        mbstd: append a minibatch-standard-deviation feature map (anti mode collapse).
    """

    def __init__(self, num_classes: int, image_size: int = 64, ndf: int = 64, in_channels: int = 1,
                 norm: str = "none", spectral_norm: bool = True, ac_head: bool = False, mbstd: bool = False,
                 n_codes: int = 0) -> None:
        super().__init__()
        self.trunk = DCGANEncoder(image_size, ndf, in_channels, norm, spectral_norm, mbstd)
        ch = self.trunk.out_channels
        self.linear = maybe_sn(nn.Linear(ch, 1), spectral_norm)
        self.embed = maybe_sn(nn.Embedding(num_classes, ch), spectral_norm)
        self.classifier = maybe_sn(nn.Linear(ch, num_classes), spectral_norm) if ac_head else None
        #: InfoGAN's Q head: predicts the continuous latent codes of a fake image (mutual information term)
        self.code_head = nn.Sequential(nn.Linear(ch, ch), nn.LeakyReLU(0.2), nn.Linear(ch, n_codes)) if n_codes else None

    #: weight of the class projection term (1 = the projection D; 0 = an unconditional D); see
    #: :func:`medgan.models.layers.set_condition_strength`.
    condition_strength: float = 1.0

    def forward(self, x: torch.Tensor, y: torch.Tensor, return_class_logits: bool = False,
                return_codes: bool = False):
        h = self.trunk(x).sum(dim=(2, 3))  # (N, C)
        projection = (self.embed(y) * h).sum(1)
        lam = float(self.condition_strength)
        logits = self.linear(h).squeeze(1) + (projection if lam == 1.0 else lam * projection)
        if return_codes:
            if self.code_head is None:
                raise ValueError("this discriminator has no code head (n_codes=0)")
            return logits, self.code_head(h)
        if return_class_logits:
            if self.classifier is None:
                raise ValueError("this discriminator has no AC head (ac_head=False)")
            return logits, self.classifier(h)
        return logits

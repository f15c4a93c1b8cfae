"""Domain feature extractors for the fidelity metrics (no pretrained weights exist offline).

Two embeddings of a (N, 1, S, S) image tensor in [-1, 1]:

- ``"trained"`` (default): the penultimate layer (global-average-pooled conv features) of a small CNN
  classifier trained for a few epochs on the *real training split*. Its features describe what
  distinguishes the classes in this data set -- the thing the downstream classifier will use -- and
  they are adapted to CT rather than to ImageNet.
- ``"random"``: the same architecture with random (He-normal) weights and no training. Naeem et al.
  (2020) recommend random embeddings outside ImageNet: they cannot be "fooled" by a generator that
  matches only class-discriminative features, and they see low-level texture (GAN artefacts) that a
  trained classifier learns to ignore. Used as the cross-check.

Both are deterministic for a seed: weights are initialised from an explicit ``torch.Generator`` and
the training batches are shuffled by the same generator (no global RNG, no dropout).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from medgan.errors import ConfigError
from medgan.training.supervised import fit_classifier, random_flip

__all__ = ["FEATURE_KINDS", "FeatureCNN", "FeatureExtractor", "build_feature_extractor", "train_feature_cnn"]

FEATURE_KINDS = ("trained", "random")


class FeatureCNN(nn.Module):
    """Four stride-2 conv blocks (conv-BN-LeakyReLU) -> global average pool -> linear head.

    Args:
        n_classes: number of classes of the classification head.
        width: channels of the first block (doubled up to ``4 * width``); features are ``4 * width``-d.
        in_channels: image channels.
    """

    def __init__(self, n_classes: int, width: int = 16, in_channels: int = 1) -> None:
        super().__init__()
        chans = [in_channels, width, 2 * width, 4 * width, 4 * width]
        blocks: list[nn.Module] = []
        for c_in, c_out in zip(chans[:-1], chans[1:]):
            blocks += [nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.LeakyReLU(0.2)]
        self.body = nn.Sequential(*blocks)  # (N, 4w, S/16, S/16)
        self.head = nn.Linear(chans[-1], max(int(n_classes), 1))
        self.feature_dim = chans[-1]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, S, S) -> (N, feature_dim) penultimate features (mean + spatial pooling)."""
        return F.adaptive_avg_pool2d(self.body(x), 1).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def reset_parameters(self, generator: torch.Generator) -> "FeatureCNN":
        """He-normal conv/linear weights drawn from ``generator``; BN to identity. Returns self."""
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                with torch.no_grad():
                    m.weight.normal_(0.0, math.sqrt(2.0 / fan_in), generator=generator)
                    if m.bias is not None:
                        m.bias.zero_()
            elif isinstance(m, nn.BatchNorm2d):
                m.reset_parameters()
                m.reset_running_stats()
        return self


def train_feature_cnn(
    images: torch.Tensor, labels: torch.Tensor, n_classes: int, epochs: int = 8, batch_size: int = 32,
    lr: float = 2e-3, width: int = 16, seed: int = 0,
) -> FeatureCNN:
    """Train :class:`FeatureCNN` as a classifier (random flips as the only augmentation), ``epochs`` x
    ceil(n / batch_size) steps of :func:`medgan.training.supervised.fit_classifier`.

    Deterministic for ``seed``: initialisation, shuffling and flips all come from one ``torch.Generator``.
    """
    gen = torch.Generator().manual_seed(int(seed))
    model = FeatureCNN(n_classes, width=width, in_channels=int(images.shape[1])).reset_parameters(gen)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    n = int(images.shape[0])
    if n < 2:  # BatchNorm needs two samples per batch
        return model.eval()
    steps = int(epochs) * math.ceil(n / batch_size)
    fit_classifier(model, images.float(), labels.long(), steps, batch_size, opt, gen, augment=random_flip)
    return model.eval()


@dataclass
class FeatureExtractor:
    """A frozen embedding ``images -> (N, D)`` plus a record of how it was made."""

    model: FeatureCNN
    kind: str
    seed: int
    epochs: int = 0

    @torch.no_grad()
    def __call__(self, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
        """Embed (N, 1, S, S) images in [-1, 1]; returns float64 (N, D) features."""
        self.model.eval()
        out = [self.model.features(images[i:i + batch_size].float()) for i in range(0, int(images.shape[0]), batch_size)]
        return torch.cat(out).double() if out else torch.zeros(0, self.model.feature_dim, dtype=torch.float64)

    def describe(self) -> dict:
        """JSON-able description (kind, feature dimension, seed, epochs)."""
        return {"kind": self.kind, "dim": int(self.model.feature_dim), "seed": int(self.seed), "epochs": int(self.epochs)}


def build_feature_extractor(
    kind: str, images: torch.Tensor | None = None, labels: torch.Tensor | None = None, n_classes: int = 1,
    seed: int = 0, epochs: int = 8, width: int = 16,
) -> FeatureExtractor:
    """Build the ``"trained"`` (needs real training images + labels) or ``"random"`` extractor."""
    if kind not in FEATURE_KINDS:
        raise ConfigError(f"unknown feature extractor {kind!r}", f"use one of {', '.join(FEATURE_KINDS)}")
    if kind == "random":
        gen = torch.Generator().manual_seed(int(seed) + 7919)
        return FeatureExtractor(FeatureCNN(n_classes, width=width).reset_parameters(gen).eval(), "random", seed, 0)
    if images is None or labels is None:
        raise ConfigError("the 'trained' feature extractor needs real training images and labels",
                          "pass real_train, or use kind='random'")
    model = train_feature_cnn(images, labels, n_classes, epochs=epochs, width=width, seed=seed)
    return FeatureExtractor(model, "trained", seed, epochs)

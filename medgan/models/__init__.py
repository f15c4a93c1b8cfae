"""GAN models: per-class DCGAN, class-conditional GAN (projection D, AC head), DiffAugment, losses.

Every generator: ``forward(z (N, latent_dim), y int64 (N,)) -> (N, 1, S, S)`` in [-1, 1].
Every discriminator: ``forward(x, y) -> (N,)`` logits.
"""
from medgan.models.conditional import ConditionalGenerator, ProjectionDiscriminator
from medgan.models.dcgan import DCGANDiscriminator, DCGANGenerator, PerClassDiscriminator, PerClassGenerator
from medgan.models.layers import ConditionalBatchNorm2d, dcgan_init_, set_condition_strength
from medgan.models.registry import MODELS, build_discriminator, build_generator

__all__ = [
    "MODELS",
    "build_generator",
    "build_discriminator",
    "dcgan_init_",
    "DCGANGenerator",
    "DCGANDiscriminator",
    "PerClassGenerator",
    "PerClassDiscriminator",
    "ConditionalGenerator",
    "ProjectionDiscriminator",
    "ConditionalBatchNorm2d",
    "set_condition_strength",
]

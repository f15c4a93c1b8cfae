"""medgan: MONAI-native GAN augmentation for small labelled CT sets.

Learn per-class generators from a few labelled CT slices, synthesize new labelled slices, plug them into
MONAI pipelines, measure their quality, and benchmark whether they raise a classifier's sensitivity and
specificity.
"""
from medgan._version import __version__
from medgan.errors import CheckpointError, ConfigError, DataError, MedganError
from medgan.synthesis.sampler import load_generator

__all__ = ["__version__", "MedganError", "DataError", "CheckpointError", "ConfigError", "load_generator"]


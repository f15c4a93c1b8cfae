"""medgan: MONAI-native GAN augmentation for small labelled CT sets.

Learn per-class generators from a few labelled CT slices, synthesize new labelled slices, plug them into
MONAI pipelines, measure their quality, and benchmark whether they raise a classifier's sensitivity and
specificity.
"""
__version__ = "0.1.0"

from medgan.errors import CheckpointError, ConfigError, DataError, MedganError

__all__ = ["__version__", "MedganError", "DataError", "CheckpointError", "ConfigError", "load_generator"]


def load_generator(path, device: str = "cpu"):
    """Load a trained generator (run dir, generator export or MONAI bundle) as a sampler.

    See :func:`medgan.synthesis.load_generator`; imported lazily so ``import medgan`` stays light.
    """
    from medgan.synthesis.sampler import load_generator as _load

    return _load(path, device=device)

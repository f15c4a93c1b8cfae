"""medgan.synthesis: load a trained generator, sample labelled images, feed MONAI pipelines, export.

Quick use::

    from medgan.synthesis import load_generator, SyntheticDataset
    sampler = load_generator("runs/cgan")             # run dir, generator.json or a bundle dir
    x = sampler.sample_class("cyst", 16, seed=0)      # (16, 1, S, S) in [-1, 1], deterministic
    ds = SyntheticDataset(sampler, counts_per_class={"cyst": 100, "metastasis": 100, "hemangioma": 100})
"""
from medgan.synthesis.dataset import SyntheticDataset, class_counts_of, mix_real_and_synthetic
from medgan.synthesis.export import synthesize_to_dir
from medgan.synthesis.sampler import GeneratorSampler, derive_seed, load_generator, resolve_device

__all__ = [
    "GeneratorSampler",
    "load_generator",
    "derive_seed",
    "resolve_device",
    "SyntheticDataset",
    "mix_real_and_synthetic",
    "class_counts_of",
    "synthesize_to_dir",
]

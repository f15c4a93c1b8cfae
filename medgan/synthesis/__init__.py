"""medgan.synthesis: load a trained generator, sample labelled images, export files and MONAI bundles.

Quick use::

    from medgan.synthesis import load_generator
    sampler = load_generator("runs/cgan")             # run dir, generator.json or a bundle dir
    x = sampler.sample_class("cyst", 16, seed=0)      # (16, 1, S, S) in [-1, 1], deterministic

The MONAI face (``SyntheticDataset``, ``SyntheticSampled``, mixing) lives one floor up, in
:mod:`medgan.transforms`.
"""
from medgan.synthesis.export import synthesize_to_dir
from medgan.synthesis.sampler import GeneratorSampler, load_generator

__all__ = [
    "GeneratorSampler",
    "load_generator",
    "synthesize_to_dir",
]

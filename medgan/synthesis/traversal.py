"""InfoGAN code traversals: what does each latent code change (lesion size, position, contrast ...)?"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import torch

from medgan.errors import ConfigError
from medgan.synthesis.sampler import GeneratorSampler
from medgan.training.logs import save_grid

__all__ = ["code_traversal", "save_traversals"]

DEFAULT_VALUES = (-1.0, -0.5, 0.0, 0.5, 1.0)


def code_traversal(sampler: GeneratorSampler, cls: int | str, code: int, values: Sequence[float] = DEFAULT_VALUES,
                   rows: int = 4, seed: int = 0) -> torch.Tensor:
    """Images ``(rows * len(values), 1, S, S)``: row r keeps one latent draw, column j sets ``code`` to ``values[j]``.

    Every other code keeps its drawn value, so a column-to-column change is the effect of that code alone.
    """
    k = sampler.info_codes
    if not 0 <= int(code) < k:
        raise ConfigError(f"code {code} does not exist: this generator has {k} InfoGAN code(s)",
                          f"use 0..{k - 1}" if k else "train with info_codes > 0")
    c = sampler.class_index(cls)
    seeds = sampler.class_seeds(c, rows, seed)
    base = sampler.latents(seeds)[:, -k:]  # the drawn codes of each row
    grid_codes = base.repeat_interleave(len(values), dim=0)
    grid_codes[:, int(code)] = torch.tensor([float(v) for v in values]).repeat(rows)
    grid_seeds = [s for s in seeds for _ in values]
    return sampler.sample([c] * len(grid_seeds), grid_seeds, codes=grid_codes)


def save_traversals(sampler: GeneratorSampler, out_dir: str | Path, rows: int = 4, seed: int = 0) -> list[Path]:
    """One PNG per (class, code): ``out_dir/traversal_<class>_code<i>.png`` (columns: code from -1 to 1)."""
    paths = []
    for c, name in enumerate(sampler.class_names):
        for code in range(sampler.info_codes):
            images = code_traversal(sampler, c, code, rows=rows, seed=seed)
            paths.append(save_grid(Path(out_dir) / f"traversal_{re.sub(r'[^A-Za-z0-9_.-]', '_', name)}_code{code}.png", images, len(DEFAULT_VALUES)))
    return paths

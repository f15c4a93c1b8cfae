"""Fixtures: a tiny untrained generator export (no training; tests stay fast)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

CLASSES = ["cyst", "metastasis", "hemangioma"]
ARCH = {"num_classes": 3, "latent_dim": 8, "image_size": 16, "ngf": 4}


@pytest.fixture(scope="session")
def export_dir(tmp_path_factory) -> Path:
    """A run directory holding generator.safetensors + generator.json of a tiny per-class DCGAN."""
    from medgan.models import build_generator
    from medgan.training import write_generator_export
    from medgan.data.windows import IntensityWindow

    gen = build_generator("dcgan", **ARCH)
    rng = torch.Generator().manual_seed(0)
    for m in gen.modules():  # spread the outputs so images differ visibly across seeds
        if isinstance(m, torch.nn.ConvTranspose2d):
            torch.nn.init.normal_(m.weight, 0.0, 0.5, generator=rng)
    out = tmp_path_factory.mktemp("run")
    write_generator_export(out, gen, {
        "model": "dcgan", "arch": ARCH, "latent_dim": 8, "image_size": 16, "class_names": CLASSES,
        "window": IntensityWindow(), "data_fingerprint": "fixture", "train_patients": [], "step": 0})
    return out


@pytest.fixture(scope="session")
def sampler(export_dir):
    from medgan.synthesis import load_generator

    return load_generator(export_dir)

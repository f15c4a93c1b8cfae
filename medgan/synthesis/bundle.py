"""Export a trained generator as a MONAI bundle.

Layout (the MONAI bundle specification)::

    DIR/configs/metadata.json    version, changelog, package versions, network_data_format, and the
                                 medgan generator metadata (classes, window, weights SHA-256) under
                                 "medgan_generator"
    DIR/configs/inference.json   running it writes labelled samples (NIfTI + datalist) to output_dir
    DIR/models/model.pt          the generator's state dict (plain tensors; loaded with weights_only=True)
    DIR/docs/README.md

Run it with ``python -m monai.bundle run --config_file DIR/configs/inference.json`` (override e.g.
``--num_samples_per_class 100 --output_dir OUT --output_format png``). ``bundle_root`` defaults to the
absolute path the bundle was exported to; after moving the bundle pass ``--bundle_root NEW_DIR``.
:func:`medgan.synthesis.load_generator` also loads the bundle directory directly.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import monai
import nibabel
import numpy as np
import safetensors
import torch

from medgan._version import __version__
from medgan.synthesis.export import _spacing
from medgan.synthesis.sampler import BUNDLE_META, BUNDLE_META_KEY, BUNDLE_WEIGHTS, GeneratorSampler, load_generator
from medgan.utils import atomic_save_json, atomic_torch_save, atomic_write_text, sha256_file

__all__ = ["export_bundle", "BUNDLE_VERSION"]

BUNDLE_VERSION = "0.1.0"
META_SCHEMA = ("https://github.com/Project-MONAI/MONAI-extra-test-data/releases/download/0.8.1/"
               "meta_schema_20220324.json")


def _versions() -> dict[str, str]:
    return {"medgan": __version__, "nibabel": nibabel.__version__, "safetensors": safetensors.__version__,
            "monai": monai.__version__, "torch": torch.__version__.split("+")[0], "numpy": np.__version__}


def _metadata(sampler: GeneratorSampler, gen_meta: dict[str, Any]) -> dict[str, Any]:
    v = _versions()
    s, units = sampler.image_size, sampler.window.units
    return {
        "schema": META_SCHEMA,
        "version": BUNDLE_VERSION,
        "changelog": {BUNDLE_VERSION: f"exported by medgan {v['medgan']} from generator {sampler.fingerprint}"},
        "monai_version": v["monai"],
        "pytorch_version": v["torch"],
        "numpy_version": v["numpy"],
        "required_packages_version": {"medgan": v["medgan"], "nibabel": v["nibabel"], "safetensors": v["safetensors"]},
        "optional_packages_version": {},
        "name": f"medgan {gen_meta.get('model', 'gan')} generator ({', '.join(sampler.class_names)})",
        "task": "Class-conditional synthesis of labelled 2D CT slices for data augmentation",
        "description": (f"A {gen_meta.get('model')} generator trained with medgan on {s}x{s} CT slices of the classes "
                        f"{sampler.class_names}. It maps a latent vector and a class label to a synthetic slice in "
                        f"[-1, 1]; the intensity window ({sampler.window.name}, {units}) maps it back to native units."),
        "authors": "medgan contributors",
        "copyright": "the owners of the training data and the medgan contributors",
        "license": "Apache-2.0 (code); the weights inherit the terms of their training data",
        "data_source": f"training data fingerprint {gen_meta.get('data_fingerprint', 'unknown')}",
        "data_type": "CT slices (2D)",
        "image_classes": f"single-channel {s}x{s} slice, window {sampler.window.to_dict()}",
        "label_classes": {str(i): n for i, n in enumerate(sampler.class_names)},
        "intended_use": "Research on data augmentation only; not for clinical use. Check memorization before sharing.",
        "network_data_format": {
            "inputs": {
                "latent": {"type": "tensor", "format": "latent", "num_channels": sampler.latent_dim,
                           "spatial_shape": [], "dtype": "float32", "value_range": [], "is_patch_data": False,
                           "channel_def": {}},
                "label": {"type": "tensor", "format": "labels", "num_channels": 1, "spatial_shape": [],
                          "dtype": "int64", "value_range": [0, sampler.num_classes - 1], "is_patch_data": False,
                          "channel_def": {str(i): n for i, n in enumerate(sampler.class_names)}},
            },
            "outputs": {
                "pred": {"type": "image", "format": "magnitude", "modality": "CT", "num_channels": 1,
                         "spatial_shape": [s, s], "dtype": "float32", "value_range": [-1, 1],
                         "is_patch_data": False, "channel_def": {"0": "image"}},
            },
        },
        BUNDLE_META_KEY: gen_meta,
    }


def _inference_config(root: Path, sampler: GeneratorSampler, gen_meta: dict[str, Any]) -> dict[str, Any]:
    return {
        "imports": ["$import medgan.synthesis"],
        "bundle_root": str(root),
        "output_dir": "$@bundle_root + '/eval'",
        "device": "auto",
        "num_samples_per_class": 8,
        "seed": 0,
        "output_format": "nifti",
        "network_def": {"_target_": "medgan.models.build_generator", "model": gen_meta["model"], **gen_meta["arch"]},
        "sampler": {"_target_": "medgan.synthesis.load_generator", "path": "@bundle_root", "device": "@device"},
        "synthesize": {"_target_": "medgan.synthesis.synthesize_to_dir", "sampler": "@sampler",
                       "out_dir": "@output_dir", "per_class": "@num_samples_per_class", "fmt": "@output_format",
                       "seed": "@seed", "progress": False},
        "initialize": [],
        "run": ["$@synthesize"],
        "finalize": [],
    }


README = """# {name}

{description}

Generated by `medgan export-bundle` (medgan {medgan}). Generator fingerprint: `{fp}`.

## Use
```bash
python -m monai.bundle run --config_file configs/inference.json \\
    --bundle_root "$PWD" --output_dir ./samples --num_samples_per_class 100 --output_format nifti
```
writes `samples/images/<class>/*.nii.gz` and `samples/datalist.json` (readable by
`monai.data.load_decathlon_datalist` + `LoadImaged`). In Python: `medgan.synthesis.load_generator("<this folder>")`.

## Outputs
- classes: {classes}
- image: 1 x {s} x {s}; NIfTI values in {units} (window `{window}`), pixel spacing {spacing}; PNG: 8-bit window.

## Files
- `models/model.pt`: generator state dict (load with `torch.load(..., weights_only=True)`), sha256 in
  `configs/metadata.json` -> `medgan_generator.weights_sha256` (checked on load).
- `configs/metadata.json`: MONAI metadata + the medgan generator metadata.

Intended use: {intended}
"""


def export_bundle(checkpoint: str | os.PathLike | GeneratorSampler, out_dir: str | os.PathLike) -> Path:
    """Write a MONAI bundle for a generator export (run dir / generator.json) or a loaded sampler.

    Returns:
        The bundle directory. Every file is written atomically; the metadata (which records the weights'
        SHA-256) after the weights.
    """
    sampler = checkpoint if isinstance(checkpoint, GeneratorSampler) else load_generator(checkpoint)
    root = Path(out_dir).resolve()
    state = {k: v.detach().cpu().contiguous() for k, v in sampler.generator.state_dict().items()}
    atomic_torch_save(state, root / BUNDLE_WEIGHTS)
    gen_meta = {k: v for k, v in sampler.meta.items() if k not in ("weights_sha256",)}
    gen_meta["weights_sha256"] = sha256_file(root / BUNDLE_WEIGHTS)
    gen_meta["weights_file"] = BUNDLE_WEIGHTS.as_posix()
    gen_meta["source_weights_sha256"] = sampler.meta.get("weights_sha256")
    meta = _metadata(sampler, gen_meta)
    atomic_save_json(root / "configs" / "inference.json", _inference_config(root, sampler, gen_meta))

    spacing, source = _spacing(sampler.meta)
    atomic_write_text(root / "docs" / "README.md", README.format(
        name=meta["name"], description=meta["description"], medgan=_versions()["medgan"], fp=sampler.fingerprint,
        classes=", ".join(f"{i}: {n}" for i, n in enumerate(sampler.class_names)), s=sampler.image_size,
        units=sampler.window.units, window=sampler.window.name, spacing=f"{spacing} mm ({source})",
        intended=meta["intended_use"]))
    atomic_save_json(root / BUNDLE_META, meta)
    return root

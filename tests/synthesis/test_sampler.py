"""load_generator / GeneratorSampler: determinism, classes, clear errors."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from medgan.errors import CheckpointError, ConfigError
from medgan.synthesis import load_generator


def test_attributes(sampler):
    assert sampler.class_names == ["cyst", "metastasis", "hemangioma"]
    assert (sampler.image_size, sampler.latent_dim, sampler.window.units) == (16, 8, "HU")
    assert len(sampler.fingerprint) == 16 and sampler.fingerprint == sampler.meta["weights_sha256"][:16]


def test_sample_shape_range_and_batch_independence(sampler):
    x = sampler.sample([0, 1, 2, 0], [11, 12, 13, 14])
    assert x.shape == (4, 1, 16, 16) and x.dtype == torch.float32
    assert x.min() >= -1 and x.max() <= 1
    single = sampler.sample([2], [13])
    torch.testing.assert_close(single[0], x[2], atol=1e-5, rtol=0)
    assert not torch.allclose(x[0], x[3])  # different seeds, different images


def test_sample_class_prefix_and_seed(sampler):
    a = sampler.sample_class("cyst", 5, seed=3)
    torch.testing.assert_close(sampler.sample_class(0, 2, seed=3), a[:2], atol=1e-5, rtol=0)
    assert not torch.allclose(sampler.sample_class("cyst", 5, seed=4), a)


def test_class_index(sampler):
    assert sampler.class_index("hemangioma") == 2 and sampler.class_index(1) == 1
    for bad in ("lymphoma", 3, -1):
        with pytest.raises(ConfigError, match="not one of"):
            sampler.class_index(bad)


def test_paths_accepted(export_dir):
    for p in (export_dir, export_dir / "generator.json", export_dir / "generator.safetensors"):
        assert load_generator(p).class_names[0] == "cyst"


def test_missing_and_wrong_files(tmp_path, export_dir):
    with pytest.raises(CheckpointError, match="does not exist"):
        load_generator(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="not found"):
        load_generator(tmp_path)  # empty dir
    (tmp_path / "model.ckpt").write_bytes(b"x")
    with pytest.raises(CheckpointError, match="not a generator export"):
        load_generator(tmp_path / "model.ckpt")


def test_tampered_weights(tmp_path, export_dir):
    run = tmp_path / "run"
    shutil.copytree(export_dir, run)
    data = bytearray((run / "generator.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (run / "generator.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="do not match"):
        load_generator(run)


def test_mismatched_config(tmp_path, export_dir):
    run = tmp_path / "run"
    shutil.copytree(export_dir, run)
    meta = json.loads((run / "generator.json").read_text())
    meta["image_size"] = 32
    (run / "generator.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="metadata"):
        load_generator(run)
    meta["image_size"], meta["class_names"] = 16, ["a", "b"]
    (run / "generator.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="classes"):
        load_generator(run)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_gpu_matches_cpu(export_dir):
    cpu, gpu = load_generator(export_dir), load_generator(export_dir, device="cuda")
    torch.testing.assert_close(gpu.sample([0, 2], [1, 2]), cpu.sample([0, 2], [1, 2]), atol=1e-4, rtol=0)

"""Generator export: round trip, tampering, mismatched shapes, wrong format."""
import json

import pytest
import torch

from medgan.errors import CheckpointError
from medgan.models import build_generator
from medgan.training.export import read_generator_export, write_generator_export
from medgan.data.windows import IntensityWindow

ARCH = {"num_classes": 2, "image_size": 32, "latent_dim": 8, "ngf": 4}


def _meta(model="cgan", arch=ARCH):
    return {"model": model, "arch": dict(arch), "latent_dim": 8, "image_size": 32, "class_names": ["a", "b"],
            "window": IntensityWindow.resolve("brain", "HU"), "data_fingerprint": "abc",
            "holdout_patients": ["p9"], "train_patients": ["p1"], "step": 5}


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_round_trip_gives_equal_outputs(tmp_path, model):
    G = build_generator(model, **ARCH)
    G.train()
    G(torch.randn(8, 8), torch.arange(8) % 2)  # non-trivial BN running stats
    G.eval()
    write_generator_export(tmp_path, G, _meta(model))
    for where in (tmp_path, tmp_path / "generator.json", tmp_path / "generator.safetensors"):
        G2, meta = read_generator_export(where)
        assert not G2.training
        z, y = torch.randn(3, 8), torch.tensor([0, 1, 1])
        with torch.no_grad():
            torch.testing.assert_close(G2(z, y), G(z, y))
    assert meta["format"] == "medgan-generator" and meta["format_version"] == 1
    assert meta["window"] == IntensityWindow.resolve("brain", "HU").to_dict()
    assert IntensityWindow.from_dict(meta["window"]).name == "brain"
    assert len(meta["weights_sha256"]) == 64 and meta["class_names"] == ["a", "b"] and meta["step"] == 5


def test_tampered_weights_are_refused(tmp_path):
    write_generator_export(tmp_path, build_generator("cgan", **ARCH), _meta())
    f = tmp_path / "generator.safetensors"
    data = bytearray(f.read_bytes())
    data[-3] ^= 0xFF
    f.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="weights do not match generator.json; re-export"):
        read_generator_export(tmp_path)


def test_mismatched_architecture_is_refused(tmp_path):
    write_generator_export(tmp_path, build_generator("cgan", **ARCH), _meta())
    meta_path = tmp_path / "generator.json"
    meta = json.loads(meta_path.read_text())
    meta["arch"]["ngf"] = 8
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="shape"):
        read_generator_export(tmp_path)


@pytest.mark.parametrize("edit,match", [
    (lambda m: m.update(format="other"), "not a medgan generator"),
    (lambda m: m.update(format_version=99), "format_version"),
    (lambda m: m.pop("class_names"), "lacks"),
    (lambda m: m.update(model="nope"), "cannot rebuild"),
])
def test_bad_metadata_is_refused(tmp_path, edit, match):
    write_generator_export(tmp_path, build_generator("cgan", **ARCH), _meta())
    meta_path = tmp_path / "generator.json"
    meta = json.loads(meta_path.read_text())
    edit(meta)
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=match):
        read_generator_export(tmp_path)


def test_missing_export_is_refused(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        read_generator_export(tmp_path)
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(CheckpointError, match="not a generator export"):
        read_generator_export(tmp_path / "junk.txt")

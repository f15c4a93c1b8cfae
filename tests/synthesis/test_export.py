"""medgan synthesize (NIfTI/PNG + datalist) and medgan export-bundle (MONAI bundle run)."""
from __future__ import annotations

import json
import subprocess
import sys

import nibabel as nib
import numpy as np
import pytest
import torch
from monai.data import load_decathlon_datalist
from monai.transforms import Compose, EnsureChannelFirstd, LoadImaged

from medgan.cli import main
from medgan.errors import ConfigError
from medgan.synthesis import load_generator, synthesize_to_dir
from medgan.synthesis.bundle import export_bundle


def _load(datalist, root):
    items = load_decathlon_datalist(str(datalist), data_list_key="training", base_dir=str(root))
    return items, Compose([LoadImaged("image"), EnsureChannelFirstd("image")])


def test_synthesize_nifti_roundtrip(tmp_path, export_dir, sampler):
    out = tmp_path / "syn"
    assert main(["synthesize", "--checkpoint", str(export_dir), "--per-class", "3", "--out", str(out),
                 "--seed", "4", "--device", "cpu", "--no-progress"]) == 0
    items, load = _load(out / "datalist.json", out)
    assert [it["label"] for it in items] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    first = load(items[4])["image"]
    assert first.shape == (1, 16, 16)
    expected = sampler.window.from_unit(sampler.sample_class(1, 3, seed=4)[1])  # back in HU
    torch.testing.assert_close(first.as_tensor().float(), expected.float(), atol=1e-3, rtol=0)
    nii = nib.load(items[0]["image"])  # load_decathlon_datalist made the path absolute
    assert np.allclose(nii.header.get_zooms()[:2], (1.0, 1.0))
    manifest = json.loads((out / "synthesis.json").read_text())
    assert manifest["complete"] and manifest["units"] == "HU" and "default 1 mm" in manifest["spacing_source"]
    assert (out / "preview.png").is_file()


def test_synthesize_png_and_resume(tmp_path, sampler):
    out = tmp_path / "png"
    synthesize_to_dir(sampler, out, 2, fmt="png", progress=False)
    victim = out / "images" / "metastasis" / "metastasis_00001.png"
    victim.unlink()
    (out / "datalist.json").unlink()  # as if interrupted before the datalist was written
    synthesize_to_dir(sampler, out, 2, fmt="png", progress=False)
    items, load = _load(out / "datalist.json", out)
    assert victim.is_file() and len(items) == 6
    img = load(items[3])["image"]
    assert img.shape == (1, 16, 16) and 0 <= float(img.min()) and float(img.max()) <= 255
    with pytest.raises(ConfigError, match="another generator"):
        synthesize_to_dir(sampler, out, 2, fmt="png", seed=9, progress=False)


def test_drop_filter_replaces_candidates(tmp_path, sampler):
    calls = []

    def drop_every_other(images, cls):
        calls.append(cls)
        return torch.arange(len(images)) % 2 == 0

    out = tmp_path / "f"
    synthesize_to_dir(sampler, out, 3, fmt="png", progress=False, drop_filter=drop_every_other, batch_size=4)
    manifest = json.loads((out / "synthesis.json").read_text())
    assert manifest["n_images"] == 9 and sum(manifest["dropped_near_copies"]) >= 6 and set(calls) == {0, 1, 2}


def test_cli_errors(tmp_path, export_dir, capsys):
    assert main(["synthesize", "--checkpoint", str(tmp_path / "nope"), "--per-class", "1", "--out", str(tmp_path)]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["synthesize", "--checkpoint", str(export_dir), "--per-class", "1", "--out", str(tmp_path),
                 "--drop-near-copies", "0.02"]) == 2
    assert "--data" in capsys.readouterr().err


def test_bundle_metadata_and_load(tmp_path, export_dir, sampler):
    root = tmp_path / "bundle"
    assert main(["export-bundle", "--checkpoint", str(export_dir), "--out", str(root)]) == 0
    for rel in ("configs/metadata.json", "configs/inference.json", "models/model.pt", "docs/README.md"):
        assert (root / rel).is_file(), rel
    meta = json.loads((root / "configs/metadata.json").read_text())
    # verify_metadata needs the schema downloaded (no network here): check the required fields instead
    for key in ("version", "changelog", "monai_version", "pytorch_version", "numpy_version",
                "required_packages_version", "name", "task", "description", "authors", "license",
                "network_data_format"):
        assert meta[key], key
    assert set(meta["network_data_format"]) == {"inputs", "outputs"}
    assert meta["network_data_format"]["outputs"]["pred"]["spatial_shape"] == [16, 16]
    state = torch.load(root / "models/model.pt", weights_only=True)
    assert all(torch.is_tensor(v) for v in state.values())
    b = load_generator(root)
    torch.testing.assert_close(b.sample([0, 2], [1, 2]), sampler.sample([0, 2], [1, 2]))


@pytest.mark.slow
def test_monai_bundle_run_generates_labelled_samples(tmp_path, export_dir):
    root = export_bundle(export_dir, tmp_path / "bundle")
    out = tmp_path / "samples"
    res = subprocess.run([sys.executable, "-m", "monai.bundle", "run", "--config_file",
                          str(root / "configs" / "inference.json"), "--output_dir", str(out),
                          "--num_samples_per_class", "2", "--device", "cpu"],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    items, load = _load(out / "datalist.json", out)
    assert sorted(it["label"] for it in items) == [0, 0, 1, 1, 2, 2]
    assert load(items[0])["image"].shape == (1, 16, 16)

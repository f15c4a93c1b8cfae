"""Bad inputs to synthesis (issue 18): one clear error, exit 2, nothing written outside --out, never a hang."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
from pathlib import Path

import pytest
import torch

from medgan.cli import main
from medgan.data.windows import IntensityWindow
from medgan.errors import CheckpointError, ConfigError
from medgan.models import build_generator
from medgan.synthesis import GeneratorSampler, load_generator, synthesize_to_dir
from medgan.training import write_generator_export

ARCH2 = {"num_classes": 2, "latent_dim": 8, "image_size": 16, "ngf": 4}


@contextlib.contextmanager
def deadline(seconds: int = 60):
    """Fail instead of hanging (``--batch-size 0`` used to loop forever)."""
    def boom(*_):
        raise TimeoutError(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, boom)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _export(out: Path, class_names: list[str], nan: bool = False) -> Path:
    gen = build_generator("dcgan", **ARCH2)
    if nan:
        with torch.no_grad():
            next(gen.parameters()).view(-1)[0] = float("nan")
    write_generator_export(out, gen, {"model": "dcgan", "arch": ARCH2, "latent_dim": 8, "image_size": 16,
                                      "class_names": class_names, "window": IntensityWindow(), "step": 0})
    return out


def _synth(export_dir, out, *extra) -> list[str]:
    return ["synthesize", "--checkpoint", str(export_dir), "--per-class", "2", "--out", str(out), "--no-progress", *extra]


@pytest.mark.parametrize("case", ["existing_file", "below_file"])
def test_synthesize_out_that_is_or_lies_below_a_file_exit_2(tmp_path, export_dir, capsys, case):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    out = blocker if case == "existing_file" else blocker / "sub"
    assert main(_synth(export_dir, out)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --out ") and str(out) in err and "fix:" in err and "Traceback" not in err
    assert blocker.read_text() == "x" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


def test_synthesize_read_only_out_exit_2(tmp_path, export_dir, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: a chmod 555 folder is still writable, nothing to refuse")
        assert main(_synth(export_dir, ro / "out")) == 2
        assert "not writable" in capsys.readouterr().err
    finally:
        ro.chmod(0o755)


def test_unwritable_out_is_refused_before_any_work(tmp_path, export_dir, capsys, monkeypatch):
    """The os.access path of the check (a read-only folder, simulated: tests run as root)."""
    ro = tmp_path / "ro"
    ro.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == ro else real_access(p, mode, **kw))
    assert main(_synth(export_dir, ro / "out")) == 2
    err = capsys.readouterr().err
    assert "not writable" in err and str(ro) in err and not (ro / "out").exists()


@pytest.mark.parametrize("flags, words", [
    (["--batch-size", "0"], "--batch-size must be >= 1"),
    (["--batch-size", "-4"], "--batch-size must be >= 1"),
    (["--drop-near-copies", "nan", "--data", "phantom"], "--drop-near-copies must be >= 0"),
    (["--drop-near-copies", "-1", "--data", "phantom"], "--drop-near-copies must be >= 0"),
])
def test_synthesize_numeric_options_out_of_range_exit_2(tmp_path, export_dir, capsys, flags, words):
    with deadline(60):
        assert main(_synth(export_dir, tmp_path / "o", *flags)) == 2
    assert words in capsys.readouterr().err and not (tmp_path / "o").exists()


def test_library_batch_size_zero_raises_instead_of_looping(tmp_path, sampler):
    with deadline(60), pytest.raises(ConfigError, match="batch"):
        synthesize_to_dir(sampler, tmp_path / "o", 2, progress=False, batch_size=0)
    with pytest.raises(ConfigError, match="batch"):
        sampler.sample([0], [1], batch_size=0)


def test_class_names_that_meet_on_disk_get_distinct_folders(tmp_path):
    sampler = load_generator(_export(tmp_path / "run", ["a/b", "a_b"]))
    datalist = json.loads(synthesize_to_dir(sampler, tmp_path / "o", 2, fmt="png", progress=False).read_text())
    by_image = {e["image"]: e["class_name"] for e in datalist["training"]}
    assert len(by_image) == 4  # two images per class, none shared by both labels
    folders = {Path(img).parent.name: name for img, name in by_image.items()}
    assert len(folders) == 2 and sorted(folders.values()) == ["a/b", "a_b"]
    assert all((tmp_path / "o" / img).is_file() for img in by_image)


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_class_names_stay_inside_images(tmp_path, name):
    sampler = load_generator(_export(tmp_path / "run", [name, "b"]))
    synthesize_to_dir(sampler, tmp_path / "o", 1, fmt="png", progress=False)
    written = sorted(p.relative_to(tmp_path / "o").as_posix() for p in (tmp_path / "o").rglob("*.png"))
    assert all(w.startswith("images/") and w.count("/") == 2 for w in written if w != "preview.png")


def test_nan_weights_with_matching_sha256_are_refused(tmp_path, capsys):
    run = _export(tmp_path / "run", ["a", "b"], nan=True)
    with pytest.raises(CheckpointError, match="NaN"):
        load_generator(run)
    out = tmp_path / "o"
    assert main(_synth(run, out)) == 2
    assert "NaN/inf" in capsys.readouterr().err
    assert not out.exists() or not list(out.rglob("*.nii.gz"))


class _NaNGenerator(torch.nn.Module):
    num_classes = 2

    def forward(self, z, y):
        return torch.full((z.shape[0], 1, 16, 16), float("nan"))


def test_nan_samples_are_never_written(tmp_path):
    sampler = GeneratorSampler(_NaNGenerator(), {"class_names": ["a", "b"], "image_size": 16, "latent_dim": 8,
                                                 "window": IntensityWindow().to_dict()})
    with pytest.raises(CheckpointError, match="NaN"):
        synthesize_to_dir(sampler, tmp_path / "o", 2, progress=False)
    assert not list((tmp_path / "o").rglob("*.nii.gz"))


class _Blocked:  # a class: torch.load(weights_only=True) refuses to unpickle it
    pass


def test_bundle_with_blocked_pickle_is_checkpoint_error(tmp_path, export_dir, capsys):
    root = tmp_path / "bundle"
    assert main(["export-bundle", "--checkpoint", str(export_dir), "--out", str(root)]) == 0
    weights = root / "models" / "model.pt"
    torch.save({"x": _Blocked()}, weights)  # a pickle with a blocked global, its SHA-256 recorded as if exported
    meta_path = root / "configs" / "metadata.json"
    meta = json.loads(meta_path.read_text())
    meta["medgan_generator"]["weights_sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="cannot be loaded"):
        load_generator(root)
    assert main(_synth(root, tmp_path / "o")) == 2
    err = capsys.readouterr().err
    assert "model.pt" in err and "Traceback" not in err and "fix:" in err


def test_bundle_out_that_is_a_file_exit_2(tmp_path, export_dir, capsys):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    assert main(["export-bundle", "--checkpoint", str(export_dir), "--out", str(blocker)]) == 2
    assert "is an existing file" in capsys.readouterr().err and blocker.read_text() == "x"


@pytest.mark.parametrize("key, value", [("arch", [1]), ("model", ["x"]), ("format_version", "x"), ("window", "zz"),
                                        ("class_names", "ab"), ("window", {"units": "HU", "width": -1})])
def test_malformed_generator_json_is_checkpoint_error(tmp_path, export_dir, key, value):
    run = tmp_path / "run"
    run.mkdir()
    (run / "generator.safetensors").write_bytes((export_dir / "generator.safetensors").read_bytes())
    meta = json.loads((export_dir / "generator.json").read_text())
    meta[key] = value
    (run / "generator.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match=key):
        load_generator(run)

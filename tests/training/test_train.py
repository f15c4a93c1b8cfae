"""train(): run directory, determinism, divergence guard, resume refusal, collapse."""
import csv
import json

import pytest
import torch

from medgan.errors import CheckpointError, ConfigError, TrainingDivergedError
from medgan.models import losses
from medgan.training import Trainer, load_checkpoint, read_generator_export, train


@pytest.fixture(autouse=True)
def _bind(tiny_config, data_factory):
    global _cfg, make_data
    _cfg, make_data = tiny_config, data_factory


@pytest.mark.parametrize("model", ["cgan", "dcgan", "fastgan"])
def test_run_directory_has_every_artifact(tmp_path, tiny_data, model):
    out = train(_cfg(model=model, sample_every=2, checkpoint_every=2), tiny_data, tmp_path / "run", progress=False)
    assert json.loads((out / "config.json").read_text())["model"] == model
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert {"d_loss", "g_loss", "d_real", "d_fake", "img_per_s"} <= set(rows[0])
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["step_000002.png", "step_000004.png"]
    from PIL import Image
    assert Image.open(out / "samples" / "step_000004.png").size[1] == 2 * (16 + 2) + 2  # one row per class
    state = load_checkpoint(out / "checkpoints" / "last.pt")
    assert state["step"] == 4 and state["data_fingerprint"] == tiny_data.fingerprint()
    G, meta = read_generator_export(out)
    assert meta["step"] == 4 and meta["class_names"] == ["a", "b"] and meta["model"] == model
    assert set(meta["holdout_patients"]).isdisjoint(meta["train_patients"]) and meta["holdout_patients"]
    x = G(torch.randn(3, 8), torch.tensor([0, 1, 1]))
    assert x.shape == (3, 1, 16, 16)


def test_same_seed_same_weights_different_seed_differs(tmp_path, tiny_data):
    def weights(seed, name):
        torch.manual_seed(1234 + seed * 7 + len(name))  # global RNG state must not matter
        train(_cfg(seed=seed, steps=3), tiny_data, tmp_path / name, progress=False)
        return read_generator_export(tmp_path / name)[0].state_dict()

    a, b, c = weights(0, "a"), weights(0, "b"), weights(1, "c")
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_resume_continues_exactly(tmp_path, tiny_data):
    train(_cfg(steps=6), tiny_data, tmp_path / "full", progress=False)
    train(_cfg(steps=3), tiny_data, tmp_path / "half", progress=False)
    train(_cfg(steps=6), tiny_data, tmp_path / "half", resume=True, progress=False)
    a = read_generator_export(tmp_path / "full")[0].state_dict()
    b = read_generator_export(tmp_path / "half")[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert [int(r["step"]) for r in csv.DictReader(open(tmp_path / "half" / "log.csv"))] == list(range(1, 7))


def test_resume_refuses_other_options_or_data(tmp_path, tiny_data):
    train(_cfg(steps=2), tiny_data, tmp_path / "r", progress=False)
    with pytest.raises(CheckpointError, match="options differ.*lr_d"):
        train(_cfg(steps=4, lr_d=1e-3), tiny_data, tmp_path / "r", resume=True, progress=False)
    with pytest.raises(CheckpointError, match="data differ"):
        train(_cfg(steps=4), make_data(seed=5), tmp_path / "r", resume=True, progress=False)
    with pytest.raises(ConfigError, match="already holds"):
        train(_cfg(steps=4), tiny_data, tmp_path / "r", progress=False)
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train(_cfg(steps=4), tiny_data, tmp_path / "empty", resume=True, progress=False)


def test_corrupt_checkpoint_is_refused(tmp_path, tiny_data):
    train(_cfg(steps=2), tiny_data, tmp_path / "r", progress=False)
    ckpt = tmp_path / "r" / "checkpoints" / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:200])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        train(_cfg(steps=4), tiny_data, tmp_path / "r", resume=True, progress=False)


def test_nan_loss_stops_and_keeps_last_good_checkpoint(tmp_path, tiny_data, monkeypatch):
    real_d_loss, calls = losses.d_loss, {"n": 0}

    def poisoned(kind, r, f):
        calls["n"] += 1
        out = real_d_loss(kind, r, f)
        return out * float("nan") if calls["n"] >= 5 else out

    monkeypatch.setattr(losses, "d_loss", poisoned)
    with pytest.raises(TrainingDivergedError, match="diverged at step 5.*last good checkpoint"):
        train(_cfg(steps=10, checkpoint_every=2), tiny_data, tmp_path / "r", progress=False)
    state = load_checkpoint(tmp_path / "r" / "checkpoints" / "last.pt")
    assert state["step"] == 4
    assert all(torch.isfinite(v).all() for v in state["G"].values() if v.is_floating_point())


def test_collapsed_discriminator_is_detected(tmp_path, tiny_data, monkeypatch):
    monkeypatch.setattr(losses, "d_loss", lambda kind, r, f: (r * 0).sum())  # D loss exactly 0
    with pytest.raises(TrainingDivergedError, match="collapse"):
        train(_cfg(steps=10, collapse_patience=3), tiny_data, tmp_path / "r", progress=False)


def test_wrong_image_size_is_a_config_error(tmp_path, tiny_data):
    with pytest.raises(ConfigError, match="image_size"):
        train(_cfg(image_size=32), tiny_data, tmp_path / "r", progress=False)


@pytest.mark.parametrize("extra", [{"loss": "wgan-gp", "d_steps": 2}, {"r1_gamma": 1.0}, {"ac_weight": 0.5},
                                   {"mode_seeking": 1.0}, {"mode_seeking": 0.5, "d_steps": 2}, {"loss": "nonsaturating", "diffaugment": "brightness,contrast"}, {"ema_decay": 0.0}])
def test_loss_variants_train(tiny_data, extra):
    cfg = _cfg(**extra)
    t = Trainer(cfg, tiny_data.images, tiny_data.labels, 2)
    before = [p.clone() for p in t.G.parameters()]
    m = t.train_step()
    assert Trainer.finite(m) and t.step == 1
    assert any(not torch.equal(a, b) for a, b in zip(before, t.G.parameters()))


def test_balanced_batches_cover_a_rare_class():
    data = make_data(n_per_class=8)
    keep = [i for i in range(len(data)) if data.labels[i] == 0] + [8]  # class b has one image
    d = data.subset(keep)
    t = Trainer(_cfg(batch_size=64), d.images, d.labels, 2)
    _, y = t.sample_batch()
    assert 20 < int((y == 1).sum()) < 44


def test_resume_accepts_a_checkpoint_from_before_an_option_existed(tmp_path, tiny_data):
    train(_cfg(steps=3), tiny_data, tmp_path / "run", progress=False)
    ckpt = tmp_path / "run" / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    for key in ("info_codes", "info_weight", "lecam_weight"):  # as written by an older medgan
        state["config"].pop(key)
    torch.save(state, ckpt)
    train(_cfg(steps=5), tiny_data, tmp_path / "run", resume=True, progress=False)
    with pytest.raises(CheckpointError, match="lecam_weight"):  # a real change is still refused
        train(_cfg(steps=6, lecam_weight=0.3), tiny_data, tmp_path / "run", resume=True, progress=False)

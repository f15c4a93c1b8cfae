"""evaluate_quality writes quality.json/.md + figures; ``medgan evaluate`` with a fake generator loader."""
import json

import pytest
import torch

import medgan.cli.evaluate
from medgan.cli import main
from medgan.cli.evaluate import split_real
from medgan.errors import ConfigError, DataError
from medgan.evaluation import evaluate_quality

from evaluation_fakes import blobs


@pytest.mark.slow  # matplotlib figures
def test_report_files_and_figures(tmp_path):
    train, holdout, syn = blobs(12, 1), blobs(12, 2), blobs(12, 3)
    res = evaluate_quality(train, holdout, syn.images, syn.labels, out_dir=tmp_path, fast=True, umap=False,
                           notes=["a note"], context={"checkpoint": "x.safetensors"})
    on_disk = json.loads((tmp_path / "quality.json").read_text())
    assert on_disk["overall"]["fidelity"]["precision"] == res["overall"]["fidelity"]["precision"]
    md = (tmp_path / "quality.md").read_text()
    assert "a note" in md and "x.safetensors" in md
    for name in ("samples", "closest_pairs", "nn_distances", "correlations"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert f"({name}.png)" in md
    assert "umap" not in res["figures"]


def test_bad_inputs_raise_clear_errors():
    train, holdout = blobs(4, 1), blobs(4, 2)
    with pytest.raises(ConfigError, match="shape"):
        evaluate_quality(train, holdout, torch.zeros(4, 1, 16, 16), torch.zeros(4, dtype=torch.long), figures=False)
    with pytest.raises(ConfigError, match="labels"):
        evaluate_quality(train, holdout, train.images, torch.full((8,), 5), figures=False)
    with pytest.raises(DataError, match="NaN"):
        evaluate_quality(train, holdout, torch.full((8, 1, 32, 32), float("nan")), train.labels, figures=False)


class FakeSampler:
    """Mimics medgan.synthesis.GeneratorSampler: 'generates' fresh blobs."""

    def __init__(self, meta, class_names=("bright", "ring")):
        self.class_names, self.image_size, self.meta = list(class_names), 32, meta
        from medgan.data.windows import IntensityWindow

        self.window = IntensityWindow("uint8", 127.5, 255.0, "uint8")

    def sample_class(self, name_or_idx, n, seed=0):
        c = self.class_names.index(name_or_idx) if isinstance(name_or_idx, str) else int(name_or_idx)
        data = blobs(n, seed=100 + seed)
        return data.images[data.labels == c][:n]


@pytest.fixture
def fake_world(monkeypatch):
    data = blobs(10, seed=5)
    holdout = [p for i, p in enumerate(data.patients) if i % 4 == 0]
    train = [p for p in data.patients if p not in holdout]
    state = {"meta": {"holdout_patients": holdout, "train_patients": train}, "names": ("bright", "ring")}
    monkeypatch.setattr(medgan.cli.evaluate, "load_generator",
                        lambda path: FakeSampler(state["meta"], state["names"]), raising=False)
    monkeypatch.setattr("medgan.cli.evaluate.load_data", lambda spec, **kw: "loaded")
    monkeypatch.setattr("medgan.cli.evaluate.prepare_tensors", lambda loaded, image_size, window: data)
    return state


def test_cli_evaluate_writes_report(tmp_path, fake_world, capsys):
    rc = main(["evaluate", "--checkpoint", "g.safetensors", "--data", "fake", "--out", str(tmp_path / "q"),
               "--per-class", "6", "--fast", "--no-figures"])
    assert rc == 0
    res = json.loads((tmp_path / "q" / "quality.json").read_text())
    assert res["sizes"] == {"train": 15, "holdout": 5, "synthetic": 12}
    assert "never saw" in " ".join(res["notes"])
    assert "| overall |" in capsys.readouterr().out


def test_cli_evaluate_falls_back_without_holdout(tmp_path, fake_world):
    fake_world["meta"] = {}
    assert main(["evaluate", "--checkpoint", "g", "--data", "fake", "--out", str(tmp_path), "--per-class", "4",
                 "--fast", "--no-figures"]) == 0
    notes = " ".join(json.loads((tmp_path / "quality.json").read_text())["notes"])
    assert "fell back" in notes and "HAS SEEN" in notes


def test_cli_evaluate_class_mismatch_exits_2(tmp_path, fake_world, capsys):
    fake_world["names"] = ("bright", "cyst")
    assert main(["evaluate", "--checkpoint", "g", "--data", "fake", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "do not match" in err and "fix:" in err


def test_split_real_uses_recorded_patients():
    data = blobs(6, seed=0)
    tr, ho, notes = split_real(data, {"holdout_patients": data.patients[:3]})
    assert len(ho) == 3 and len(tr) == 9 and not set(tr.patients) & set(ho.patients)


def test_split_real_uses_unseen_patients_when_only_train_patients_are_recorded():
    import torch

    from medgan.cli.evaluate import split_real
    from medgan.data.types import PreparedData
    from medgan.data.windows import IntensityWindow

    patients = [f"p{i // 2}" for i in range(12)]
    data = PreparedData(torch.zeros(12, 1, 8, 8), torch.tensor([i % 2 for i in range(12)]), patients,
                        ["a", "b"], IntensityWindow(), [])
    train, holdout, notes = split_real(data, {"train_patients": ["p0", "p1", "p2", "p3"]})
    assert sorted(set(train.patients)) == ["p0", "p1", "p2", "p3"]
    assert sorted(set(holdout.patients)) == ["p4", "p5"]
    assert any("never saw" in n for n in notes)

"""The split plan is checked whole before anything trains: one error naming class, patient group and fixes."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medgan.benchmark.classifier import ClassifierConfig
from medgan.benchmark.fold import run_fold
from medgan.benchmark.plan import check_plan, find_problem, fold_seed, inner_split, plan_splits
from medgan.benchmark.protocol import run_benchmark
from medgan.errors import DataError

from benchmark_fakes import FakeFactory, small_config, tiny_data


def _write_covid_like(root, n_sources: int = 0, slices: int = 3, n_singles: int = 2, n_noncovid: int = 12):
    """covid/: 12 slices of one medRxiv-like source, ``n_sources`` more sources of ``slices`` slices and
    ``n_singles`` undotted single slices; noncovid/: single slices with dotted names."""
    rng = np.random.default_rng(0)
    names = {"covid": [f"2020.01.24.919183-p{27 + k // 4}-{132 + k}.png" for k in range(12)]
             + [f"2020.02.{10 + s}.20021584-p6-{k}.png" for s in range(n_sources) for k in range(slices)]
             + [f"PIIS014067362030{k}-1.png" for k in range(n_singles)],
             "noncovid": [f"{k}.CT.jpg.png" for k in range(n_noncovid)]}
    for cls, files in names.items():
        (root / cls).mkdir(parents=True)
        for name in files:
            Image.fromarray(rng.integers(0, 255, (16, 16), dtype=np.uint8)).save(root / cls / name)
    return root


def test_infeasible_fold_fails_before_any_gan_or_file(tmp_path):
    root = _write_covid_like(tmp_path / "covid_ct")
    # the old rule (stem cut at the first dot) as a regex: 12 of the 14 covid slices become one patient "2020",
    # so 2 folds put it alone in one test fold and leave the other fold 1 covid patient to train on
    factory = FakeFactory()
    config = small_config(data=f"{root}:patient_regex=^([^.]+)", folds=2, dedup_threshold=1.01)
    out = tmp_path / "bench"
    with pytest.raises(DataError) as info:
        run_benchmark(config, out, gan_factory=factory, progress=False, log=lambda s: None)
    msg = str(info.value)
    assert "plan is infeasible" in msg and "class covid has 1 patient(s) in the training part" in msg
    assert "repeat 0 fold" in msg and "group 2020 holds 12 of its 14 images (86 %" in msg
    assert "patient_regex" in info.value.hint and "more patients of class covid" in info.value.hint
    assert "--folds" not in info.value.hint  # 2 folds is already the fewest: not offered
    assert factory.calls == [] and not out.exists()  # nothing trained, nothing written


def test_regex_by_source_makes_the_same_folder_feasible(tmp_path):
    from medgan.data import load_data

    root = _write_covid_like(tmp_path / "covid_ct", n_sources=8)
    data = load_data(f"{root}:patient_regex=^(.+?)(?:-p\\d+-\\d+)?\\.png$")
    assert len(set(data.patients[data.labels == 0])) == 11  # 1 + 8 sources + 2 singles
    splits = check_plan(data.labels, list(data.patients), small_config(folds=2), data.class_names)
    assert len(splits) == 2


def _lopsided(n_big: int = 20, n_small: int = 2, n_other: int = 8):
    """Class 0: one patient with ``n_big`` images + ``n_small`` single-image patients; class 1: ``n_other`` singles."""
    labels = np.r_[np.zeros(n_big + n_small, int), np.ones(n_other, int)]
    patients = ["big"] * n_big + [f"s{i}" for i in range(n_small)] + [f"o{i}" for i in range(n_other)]
    return labels, patients


def test_find_problem_names_the_training_part_and_a_working_fewer_folds():
    labels, patients = _lopsided(n_big=20, n_small=1, n_other=12)
    config = small_config(folds=2)
    problem = find_problem(labels, patients, config, ["lesion", "normal"])
    assert problem is not None and problem.label == 0
    with pytest.raises(DataError, match="class lesion has") as info:
        check_plan(labels, patients, config, ["lesion", "normal"])
    assert "big holds 20 of its 21 images (95 %" in str(info.value)
    assert "in the training part" in str(info.value) and "--folds" not in info.value.hint


def test_too_few_patients_for_the_folds_is_one_plan_error():
    labels, patients = _lopsided(n_big=5, n_small=2, n_other=10)
    with pytest.raises(DataError, match=r"in the outer folds class a has 3 patient\(s\), fewer than the 5 folds") as info:
        check_plan(labels, patients, small_config(folds=5), ["a", "b"])
    k = int(info.value.hint.split("--folds ")[1].split()[0])  # a K that passes the same check is offered
    assert k in (2, 3) and find_problem(labels, patients, small_config(folds=k), ["a", "b"]) is None


def test_check_plan_returns_exactly_the_splits_the_run_uses():
    data = tiny_data()
    config = small_config(folds=3, repeats=2, seed=5)
    labels, patients = data.labels.numpy(), list(data.patients)
    checked = check_plan(labels, patients, config, data.class_names)
    again = plan_splits(labels, patients, config, data.class_names)
    assert [(r, f) for r, f, _, _ in checked] == [(r, f) for r in range(2) for f in range(3)]
    for (r, f, tr, te), (_, _, tr2, te2) in zip(checked, again):
        assert np.array_equal(tr, tr2) and np.array_equal(te, te2)
    assert fold_seed(config, 1, 2) == 5 + 1000 + 20


def test_run_fold_uses_the_checked_inner_split(tmp_path):
    import torch

    data = tiny_data()
    clf = ClassifierConfig(channels=(4, 4, 8, 8), epochs=1, min_steps=1, batch_size=8)
    config = small_config(ratios=(0.0,), tstr=False, quality=False, classifier=clf)
    labels, patients = data.labels.numpy(), list(data.patients)
    r, f, tr, te = check_plan(labels, patients, config, data.class_names)[1]
    seed = fold_seed(config, r, f)
    rec = run_fold(data, tr, te, patients, config, 1, seed, FakeFactory(), tmp_path, torch.device("cpu"))
    inner, val = inner_split(labels, tr, patients, config.val_fraction, seed, data.class_names)
    assert rec["indices"]["inner_train"] == inner.tolist() and rec["indices"]["val"] == val.tolist()


def test_cli_benchmark_infeasible_plan_exits_2_before_training(tmp_path, capsys):
    from medgan.cli import main

    root = _write_covid_like(tmp_path / "covid_ct")
    out = tmp_path / "bench"
    argv = ["benchmark", "--data", str(root), "--patient-regex", "^([^.]+)", "--quick", "--out", str(out),
            "--image-size", "16", "--no-progress", "--threads", "1", "--device", "cpu"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "plan is infeasible" in err and "class covid" in err and "Traceback" not in err
    assert not out.exists() or [p.name for p in out.iterdir()] == [".lock"]  # only the run-folder lock, no work


def test_cli_patient_regex_joins_the_data_spec(tmp_path):
    import argparse

    from medgan.cli import benchmark as cli_benchmark
    from medgan.errors import ConfigError

    parser = argparse.ArgumentParser()
    cli_benchmark.register(parser.add_subparsers())
    build = lambda *a: cli_benchmark.build_config(parser.parse_args(["benchmark", "--out", "x", *a]))  # noqa: E731
    assert build("--data", str(tmp_path), "--patient-regex", "^(a|b),x").data == f"{tmp_path}:patient_regex=^(a|b),x"
    assert build("--data", f"{tmp_path}:units=HU", "--patient-regex", "^(a)").data == \
        f"{tmp_path}:units=HU,patient_regex=^(a)"
    with pytest.raises(ConfigError, match="given twice"):
        build("--data", f"{tmp_path}:patient_regex=(a)", "--patient-regex", "(b)")

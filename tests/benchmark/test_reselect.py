"""Re-choosing a finished run's selected arm under another rule, from its saved folds (nothing retrained)."""
import json

import pytest
import torch

from medgan.benchmark.protocol import run_benchmark
from medgan.benchmark.reselect import reselect_run
from medgan.cli import main
from medgan.errors import ConfigError, DataError

from benchmark_fakes import FakeFactory, small_config, tiny_data


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench")
    data = tiny_data()
    config = small_config(synthetic_uses=("mix", "balance", "pretrain"), tstr=False)
    results = run_benchmark(config, out, data=data, gan_factory=FakeFactory(), progress=False, log=lambda s: None)
    return out, data, results


def _arm(results, name):
    return next(a for a in results["arms"] if a["name"] == name)


def _folds(run):
    return [json.loads(p.read_text()) for p in sorted((run / "folds").glob("r*_f*.json"))]


def test_reselecting_by_the_same_rule_changes_no_arm(finished, tmp_path):
    out, data, results = finished
    again = reselect_run(out, tmp_path / "best", "best", data=data, log=lambda s: None)
    assert again["arms"] == results["arms"]
    assert not (tmp_path / "best" / "gan").exists() and (tmp_path / "best" / "report.md").exists()


def test_one_se_picks_a_candidate_per_fold_and_keeps_its_test_scores(finished, tmp_path):
    out, data, results = finished
    new = reselect_run(out, tmp_path / "one_se", "one-se", data=data, log=lambda s: None)
    assert new["config"]["selection_rule"] == "one-se"
    for fold in _folds(tmp_path / "one_se"):
        sel = fold["arms"]["cgan selected"]
        arm = {"baseline": "baseline", "mix 1": "cgan ratio 1", "balance": "cgan balance",
               "pretrain": "cgan pretrain"}[sel["selected_use"]]
        assert sel["test"] == fold["arms"][arm]["test"]
    assert {a["name"] for a in new["arms"]} == {a["name"] for a in results["arms"]}
    for name in ("baseline", "cgan ratio 1", "cgan balance"):  # only the selected arm may change
        assert _arm(new, name) == _arm(results, name)


def test_reselect_refuses_a_full_folder_and_an_unfinished_run(finished, tmp_path):
    out, data, _ = finished
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="is not empty"):
        reselect_run(out, tmp_path / "full", "one-se", data=data, log=lambda s: None)
    partial = tmp_path / "partial"
    reselect_run(out, partial, "best", data=data, log=lambda s: None)
    (partial / "folds" / "r0_f1.json").unlink()
    with pytest.raises(DataError, match="holds 1 of its 2 folds"):
        reselect_run(partial, tmp_path / "again", "one-se", data=data, log=lambda s: None)


def test_cli_reselect_names_a_missing_run(tmp_path, capsys):
    assert main(["reselect", str(tmp_path / "nothing"), "--rule", "one-se", "--out", str(tmp_path / "new")]) == 2
    assert "holds no readable results.json" in capsys.readouterr().err

"""Re-choosing a finished run's selected arm under another rule, from its saved folds (nothing retrained)."""
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.protocol import run_benchmark
from medgan.benchmark.reselect import reselect_fold, reselect_run
from medgan.benchmark.selection import select_candidate
from medgan.cli import main
from medgan.errors import ConfigError, DataError

from benchmark_fakes import FakeFactory, small_config, tiny_data


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("bench")
    data = tiny_data()
    config = small_config(synthetic_uses=("mix", "balance", "pretrain"), tstr=True, real_fractions=(0.5, 1.0))
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


def test_one_se_picks_by_the_rule_per_fold_and_keeps_the_chosen_arm_scores(finished, tmp_path):
    out, data, results = finished
    new = reselect_run(out, tmp_path / "one_se", "one-se", data=data, log=lambda s: None)
    assert new["config"]["selection_rule"] == "one-se"
    labels = data.labels.numpy()
    for fold in _folds(tmp_path / "one_se"):
        val_counts = np.bincount(labels[fold["indices"]["val"]], minlength=2).tolist()
        for suffix in ("", " real 0.5"):
            sel = fold["arms"][f"cgan selected{suffix}"]
            candidates = {"baseline": f"baseline{suffix}", "mix 1": f"cgan ratio 1{suffix}",
                          "balance": f"cgan balance{suffix}", "pretrain": f"cgan pretrain{suffix}"}
            assert sel["selected_use"] == select_candidate(candidates, fold["arms"], "auc", "one-se", val_counts)
            assert sel["test"] == fold["arms"][candidates[sel["selected_use"]]]["test"]
    assert [a["name"] for a in new["arms"]] == [a["name"] for a in results["arms"]]
    for arm in results["arms"]:  # only the selected arms may change
        if "selected" not in arm["name"]:
            assert _arm(new, arm["name"]) == arm
    assert "Produced by `medgan reselect" in (tmp_path / "one_se" / "report.md").read_text()


def test_records_keyed_by_ratio_reselect_like_records_keyed_by_use(finished):
    out, _, _ = finished
    record = _folds(out)[0]
    config = BenchmarkConfig.from_dict(json.loads((out / "results.json").read_text())["config"])
    legacy = json.loads(json.dumps(record))
    sel = legacy["arms"]["cgan selected"]
    sel["selected_from"] = {"0" if u == "baseline" else u[4:] if u.startswith("mix ") else u: v
                            for u, v in sel["selected_from"].items()}
    config = replace(config, selection_rule="one-se")
    assert reselect_fold(legacy, config, [3, 3])["arms"]["cgan selected"] == \
        reselect_fold(record, config, [3, 3])["arms"]["cgan selected"]


def test_reselect_refuses_a_full_folder_and_an_unfinished_run(finished, tmp_path):
    out, data, _ = finished
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="is not empty"):
        reselect_run(out, tmp_path / "full", "one-se", data=data, log=lambda s: None)
    with pytest.raises(ConfigError, match="outside RUN"):
        reselect_run(out, out / "inside", "one-se", data=data, log=lambda s: None)
    partial = tmp_path / "partial"
    reselect_run(out, partial, "best", data=data, log=lambda s: None)
    (partial / "folds" / "r0_f1.json").unlink()
    with pytest.raises(DataError, match="holds 1 of its 2 folds"):
        reselect_run(partial, tmp_path / "again", "one-se", data=data, log=lambda s: None)


def test_cli_reselect_names_a_missing_run(tmp_path, capsys):
    assert main(["reselect", str(tmp_path / "nothing"), "--rule", "one-se", "--out", str(tmp_path / "new")]) == 2
    assert "holds no readable results.json" in capsys.readouterr().err

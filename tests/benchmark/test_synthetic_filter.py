"""The baseline-classifier filter of the synthetic pool: what it keeps, and how a run records it."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from medgan.benchmark.config import FILTER_POOL_FACTOR, BenchmarkConfig
from medgan.benchmark.fold import filter_pool
from medgan.benchmark.metrics import called_labels
from medgan.benchmark.protocol import run_benchmark
from medgan.benchmark.synthetic import SyntheticPool
from medgan.errors import ConfigError

from benchmark_fakes import FakeFactory, small_config, tiny_data


class Brightness(nn.Module):
    """Two-class logits from mean brightness: bright images are class 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        m = 10 * x.mean(dim=(1, 2, 3))
        return torch.stack([-m, m], dim=1)


def images(levels: list[float]) -> torch.Tensor:
    return torch.tensor(levels, dtype=torch.float32)[:, None, None, None].expand(-1, 1, 4, 4).clone()


def test_called_labels_binary_threshold_and_multiclass_argmax():
    p = np.array([[0.7, 0.3], [0.4, 0.6], [0.2, 0.8]])
    assert called_labels(p, {1: 0.5}, positive=1).tolist() == [0, 1, 1]
    assert called_labels(p, {"1": 0.7}, positive=1).tolist() == [0, 0, 1]  # JSON keys, a stricter cut-off
    assert called_labels(p, {0: 0.5}, positive=0).tolist() == [0, 1, 1]
    p3 = np.array([[0.2, 0.5, 0.3], [0.6, 0.1, 0.3]])
    assert called_labels(p3, {0: 0.9, 1: 0.9, 2: 0.9}, positive=None).tolist() == [1, 0]


def test_filter_pool_keeps_images_called_as_their_class_in_order():
    pool = SyntheticPool([images([-0.5, 0.4, -0.3, -0.1, 0.6]), images([0.5, -0.2, 0.3, 0.1])])
    kept, stats = filter_pool(pool, [Brightness()], {1: 0.5}, positive=1, device=torch.device("cpu"))
    assert stats == {"drawn": [5, 4], "kept": [3, 3]}
    assert kept.images[0][:, 0, 0, 0].tolist() == pytest.approx([-0.5, -0.3, -0.1])
    assert kept.images[1][:, 0, 0, 0].tolist() == pytest.approx([0.5, 0.3, 0.1])


def test_filter_pool_averages_an_ensemble():
    """Two members that disagree: the averaged probabilities decide."""
    class Dark(Brightness):
        def forward(self, x):
            return -super().forward(x) * 0.5

    pool = SyntheticPool([images([-0.5, 0.5]), images([0.5])])
    _, stats = filter_pool(pool, [Brightness(), Dark()], {1: 0.5}, positive=1, device=torch.device("cpu"))
    assert stats["kept"] == [1, 1]


def test_unknown_filter_refused():
    with pytest.raises(ConfigError, match="synthetic_filter"):
        BenchmarkConfig(synthetic_filter="discriminator").validate()
    assert BenchmarkConfig(synthetic_filter="baseline").protocol_hash() != BenchmarkConfig().protocol_hash()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The same tiny benchmark twice, without and with the filter (same splits and seeds)."""
    torch.set_num_threads(1)
    data = tiny_data()
    out = {}
    for name in ("none", "baseline"):
        d = tmp_path_factory.mktemp(f"filter_{name}")
        res = run_benchmark(small_config(synthetic_filter=name, ratios=(0.0, 1.0, 2.0)), d, data=data,
                            gan_factory=FakeFactory(), progress=False, log=lambda s: None)
        out[name] = (d, res)
    return data, out


def test_filtered_run_records_what_it_kept(runs):
    data, out = runs
    tmp_path, results = out["baseline"]
    rec = json.loads((tmp_path / "folds" / "r0_f0.json").read_text())
    f = rec["synthetic_filter"]["cgan"]
    assert f["drawn"] == [FILTER_POOL_FACTOR * n for n in f["needed"]]
    assert all(0 <= k <= d for k, d in zip(f["kept"], f["drawn"]))
    n_real = rec["counts"]["inner_train"]
    for r in (1, 2):
        assert rec["arms"][f"cgan ratio {r}"]["n_train"] == n_real + sum(
            min(k, int(np.ceil(r * c))) for k, c in zip(f["kept"], np.bincount(data.labels.numpy()[rec["indices"]["inner_train"]])))
    totals = results["synthetic_filter"]["cgan"]
    assert totals["drawn"] == [sum(x) for x in zip(*[json.loads(p.read_text())["synthetic_filter"]["cgan"]["drawn"]
                                                     for p in sorted((tmp_path / "folds").glob("r*_f*.json"))])]
    assert "Synthetic filter: each fold's baseline classifier" in (tmp_path / "report.md").read_text()


def test_unfiltered_run_has_no_filter_record(runs):
    tmp_path, results = runs[1]["none"]
    assert results["synthetic_filter"] == {}
    assert "Synthetic filter" not in (tmp_path / "report.md").read_text()


def test_compare_runs_pairs_the_same_test_images(runs, tmp_path):
    """The baseline arm is trained identically in both runs: B - A is exactly 0 there."""
    from medgan.benchmark.compare import compare_runs, comparison_markdown
    from medgan.errors import DataError

    (a, _), (b, _) = runs[1]["none"], runs[1]["baseline"]
    res = compare_runs(a, b, n_boot=50)
    assert res["folds"] == 2 and set(res["arms"]) >= {"baseline", "cgan ratio 1", "cgan selected"}
    base = res["arms"]["baseline"]["auc"]
    assert base["mean"] == 0 and base["ci95"] == [0, 0] and base["corrected_t"]["p_value"] == 1.0
    assert "| cgan ratio 2 |" in comparison_markdown(res)
    other = tmp_path / "other_seed"
    run_benchmark(small_config(seed=5), other, data=runs[0], gan_factory=FakeFactory(), progress=False, log=lambda s: None)
    with pytest.raises(DataError, match="share no test folds"):
        compare_runs(a, other, n_boot=10)
    with pytest.raises(DataError, match="no readable results.json"):
        compare_runs(a, tmp_path, n_boot=10)
    import shutil

    broken = shutil.copytree(b, tmp_path / "broken")
    (broken / "folds" / "r0_f1.json").write_text("{truncated")
    with pytest.raises(DataError, match="r0_f1.json is unreadable"):
        compare_runs(a, broken, n_boot=10)


def test_medgan_compare_cli_writes_the_table(runs, tmp_path, capsys):
    from medgan.benchmark.compare import compare_runs, comparison_markdown
    from medgan.cli import main

    (a, _), (b, _) = runs[1]["none"], runs[1]["baseline"]
    out = tmp_path / "cmp.md"
    assert main(["compare", str(a), str(b), "--out", str(out), "--n-boot", "50"]) == 0
    assert out.read_text() == comparison_markdown(compare_runs(a, b, n_boot=50))
    assert "| cgan ratio 1 |" in capsys.readouterr().out
    assert main(["compare", str(a), str(tmp_path)]) == 2

"""Issue 16: learning-curve and rare-class scenarios, controls, synthetic uses, curation, reviewer statistics."""
import json
from collections import Counter

import numpy as np
import pytest
import torch

from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.controls import StrongAugment, class_weights, duplicate_real, mixup
from medgan.benchmark.curation import confidence_filter, proximity_filter
from medgan.benchmark.protocol import run_benchmark
from medgan.benchmark.scenario import fraction_subset, rare_subset
from medgan.benchmark.stats import detectable_difference, holm
from medgan.benchmark.synthetic import SyntheticPool
from medgan.cli import build_parser
from medgan.cli.benchmark import build_config
from medgan.errors import ConfigError
from medgan.training import MODEL_DEFAULTS

from benchmark_fakes import FakeFactory, FakeSampler, small_config, tiny_data

ALL_CONTROLS = ("duplicate", "class-weight", "strong-aug")
ALL_USES = ("mix", "balance", "pretrain")


def _patients_by_class(idx, labels, patients):
    out: dict[int, set] = {}
    for i in idx:
        out.setdefault(int(labels[i]), set()).add(patients[i])
    return out


def test_fraction_subsets_are_grouped_stratified_and_nested():
    labels = np.repeat([0, 1], 40)
    patients = [f"c{c}p{i // 2}" for c in (0, 1) for i in range(40)]  # 20 patients per class, 2 images each
    idx = np.arange(80)
    quarter = fraction_subset(labels, idx, patients, 0.25, seed=3)
    half = fraction_subset(labels, idx, patients, 0.5, seed=3)
    by_class = _patients_by_class(quarter, labels, patients)
    assert {c: len(p) for c, p in by_class.items()} == {0: 5, 1: 5}  # a quarter of each class's patients
    assert all(patients[i] in set().union(*by_class.values()) for i in quarter)
    kept = {patients[i] for i in quarter}
    assert sum(p in kept for p in patients) == len(quarter)  # a kept patient keeps all its images
    assert set(quarter) <= set(half)  # nested
    assert fraction_subset(labels, idx, patients, 1.0, seed=3).tolist() == idx.tolist()
    assert fraction_subset(labels, idx, patients, 0.01, seed=3).size == 4  # at least one patient per class


def test_rare_subset_drops_only_the_rare_class():
    labels = np.array([0] * 20 + [1] * 20)
    patients = [f"p{i % 10}" for i in range(40)]  # every patient has images of both classes
    kept = rare_subset(labels, np.arange(40), patients, rare_label=1, fraction=0.2, seed=0)
    assert (labels[kept] == 0).sum() == 20  # the other class is untouched
    rare_patients = {patients[i] for i in kept if labels[i] == 1}
    assert len(rare_patients) == 2


def test_controls_keep_count_labels_and_randomness():
    data = tiny_data(n_per_class=6)
    x, y = duplicate_real(data.images, data.labels, 1.5, 2, seed=1)
    assert Counter(y.tolist()) == {0: 6 + 9, 1: 6 + 9}
    for img, label in zip(x[12:], y[12:]):  # every duplicate is a real image of its own class
        assert any(torch.equal(img, r) for r in data.images[data.labels == label])
    w = class_weights(torch.tensor([0] * 30 + [1] * 10), 2)
    torch.testing.assert_close(w, torch.tensor([40 / 60, 40 / 20]))
    mix = mixup(2)
    mx, my = mix(data.images, data.labels, torch.Generator().manual_seed(0))
    mx2, my2 = mix(data.images, data.labels, torch.Generator().manual_seed(0))
    assert torch.equal(mx, mx2) and torch.equal(my, my2)  # seeded
    torch.testing.assert_close(my.sum(1), torch.ones(len(my)))
    assert (my.max(1).values < 1).any()  # some targets really are mixed
    aug = StrongAugment()(data.images, torch.Generator().manual_seed(0))
    assert aug.shape == data.images.shape and not torch.equal(aug, data.images) and aug.abs().max() <= 1


class _SquareScorer(torch.nn.Module):
    """Logits = brightness of tiny_data's class-0 square vs class-1 square (a perfect real classifier)."""

    def __init__(self):
        super().__init__()
        self.head = torch.nn.Linear(2, 2)
        with torch.no_grad():
            self.head.weight.copy_(torch.eye(2) * 10)
            self.head.bias.zero_()

    def forward(self, x):
        f = torch.stack([x[:, 0, 2:6, 2:6].mean((1, 2)), x[:, 0, 6:10, 6:10].mean((1, 2))], 1)
        return self.head(f)


@pytest.fixture(scope="module")
def real_and_pool():
    data = tiny_data(n_per_class=10)
    pool = SyntheticPool.generate(FakeSampler(data), [10, 10], seed=0)
    return data, pool


def test_confidence_filter_drops_images_of_the_other_class(real_and_pool):
    data, pool = real_and_pool
    wrong = pool.with_images([torch.cat([pool.images[0][:5], pool.images[1][:5]]), pool.images[1]])
    kept, info = confidence_filter(wrong, [_SquareScorer()], data.images, data.labels, torch.device("cpu"))
    assert info["drawn"] == [10, 10] and info["kept"][0] <= 5 and info["kept"][1] >= 8
    assert len(info["q"]) == 2


def test_proximity_filter_drops_copies_and_outliers(real_and_pool):
    data, pool = real_and_pool
    real0 = data.images[data.labels == 0]
    outlier = torch.ones(3, *real0.shape[1:])
    mixed = pool.with_images([torch.cat([real0[:4], outlier, pool.images[0]]), pool.images[1]])
    kept, info = proximity_filter(mixed, [_SquareScorer()], data.images, data.labels, torch.device("cpu"))
    assert info["drawn"][0] == 17 and info["kept"][0] < 17 - 3  # outliers and most exact copies go
    kept0 = kept.images[0]
    assert not any(torch.equal(k, o) for k in kept0 for o in outlier)


def test_holm_and_detectable_difference():
    adjusted = holm({"a": 0.01, "b": 0.04, "c": 0.03, "d": float("nan")})
    assert adjusted["a"] == pytest.approx(0.03) and adjusted["c"] == pytest.approx(0.06)
    assert adjusted["b"] == pytest.approx(0.06) and np.isnan(adjusted["d"])
    small = detectable_difference([0.01, -0.01, 0.02, 0.0, 0.01], 0.25)
    large = detectable_difference([0.1, -0.1, 0.2, 0.0, 0.1], 0.25)
    assert 0 < small < large and large == pytest.approx(10 * small)
    assert np.isnan(detectable_difference([0.1], 0.25))


def test_cli_scenario_flags_reach_the_config():
    args = build_parser().parse_args(["benchmark", "--out", "x", "--real-fractions", "0.25,1", "--controls",
                                      "duplicate,strong-aug", "--uses", "mix,pretrain",
                                      "--synthetic-filter", "proximity"])
    cfg = build_config(args)
    assert cfg.real_fractions == (0.25, 1.0) and cfg.scenario == "learning-curve"
    assert cfg.controls == ("duplicate", "strong-aug") and cfg.synthetic_uses == ("mix", "pretrain")
    assert build_config(build_parser().parse_args(["benchmark", "--out", "x", "--controls", "none"])).controls == ()
    args = build_parser().parse_args(["benchmark", "--out", "x", "--rare-class", "metastasis", "--rare-fraction", "0.3"])
    assert build_config(args).scenario == "rare-class"
    with pytest.raises(ConfigError, match="real-fractions"):
        BenchmarkConfig(real_fractions=(0.0, 1.0)).validate()
    with pytest.raises(ConfigError, match="rare-fraction"):
        BenchmarkConfig(rare_fraction=1.0).validate()


@pytest.fixture(scope="module")
def curve(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("curve")
    data, factory = tiny_data(n_per_class=24), FakeFactory()
    cfg = small_config(real_fractions=(0.25, 1.0), controls=("duplicate",), synthetic_uses=ALL_USES, tstr=False)
    res = run_benchmark(cfg, out, data=data, gan_factory=factory, progress=False, log=lambda s: None)
    return out, data, factory, res


def test_quarter_arm_trains_on_a_quarter_of_the_patients(curve):
    out, data, _, res = curve
    labels = data.labels.numpy()
    for path in sorted((out / "folds").glob("r0_f*.json")):
        rec = json.loads(path.read_text())
        inner, quarter = rec["indices"]["inner_train"], rec["inner_train_by_fraction"]["0.25"]
        assert set(quarter) < set(inner)
        full = _patients_by_class(inner, labels, data.patients)
        part = _patients_by_class(quarter, labels, data.patients)
        assert {c: len(p) for c, p in part.items()} == {c: max(1, round(0.25 * len(p))) for c, p in full.items()}
        assert rec["arms"]["baseline real 0.25"]["n_train"] == len(quarter)
        assert rec["arms"]["duplicate ratio 1 real 0.25"]["n_train"] == 2 * len(quarter)
    arms = {a["name"]: a for a in res["arms"]}
    assert arms["cgan selected real 0.25"]["kind"] == "synthetic:selected"
    assert arms["cgan selected real 0.25"]["real_fraction"] == 0.25
    assert {a["scenario"] for a in res["arms"]} == {"learning-curve"}
    assert {a["kind"] for a in res["arms"]} >= {"baseline", "control:duplicate", "synthetic:mix",
                                                "synthetic:balance", "synthetic:pretrain", "synthetic:selected"}
    assert [row["real_fraction"] for row in res["learning_curve"]] == [0.25, 1.0]
    assert (out / "figures" / "learning_curve.png").stat().st_size > 1000
    assert "learning_curve.png" in (out / "report.md").read_text()


def test_fraction_gan_never_sees_excluded_or_test_patients(curve):
    out, data, factory, res = curve
    assert len(factory.calls) == 4  # 2 folds x 2 fractions
    for path in sorted((out / "folds").glob("r0_f*.json")):
        rec = json.loads(path.read_text())
        quarter = {data.meta[i]["source"] for i in rec["inner_train_by_fraction"]["0.25"]}
        gan_dir = json.loads(path.read_text())["gan_proof"]["cgan real 0.25"]
        assert gan_dir["excluded_indices_in_gan_train"] == 0 and gan_dir["real_fraction"] == 0.25
        seen = [c["sources"] for c in factory.calls if c["sources"] == quarter]
        assert len(seen) == 1  # one GAN trained on exactly the quarter
        test = {data.meta[i]["source"] for i in rec["indices"]["test"] + rec["indices"]["val"]}
        mine = [c for c in factory.calls if path.stem in str(c["out_dir"])]
        assert len(mine) == 2 and all(not (c["sources"] & test) for c in mine)
        quarter_gan = [c for c in mine if "real0.25" in str(c["out_dir"])]
        assert [c["sources"] for c in quarter_gan] == [quarter]  # excluded patients never reach it
    for proof in res["leakage"]["gan_proof"]:
        assert proof["cgan real 0.25"]["gan_reported_fingerprint"] == proof["cgan real 0.25"]["gan_train_fingerprint"]


@pytest.fixture(scope="module")
def rare(tmp_path_factory):
    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("rare")
    data = tiny_data(n_per_class=24)
    cfg = small_config(rare_class="class1", rare_fraction=0.25, controls=ALL_CONTROLS, synthetic_uses=ALL_USES,
                       tstr=False)
    return out, data, run_benchmark(cfg, out, data=data, gan_factory=FakeFactory(), progress=False, log=lambda s: None)


def test_rare_class_scenario_keeps_a_share_of_the_rare_patients(rare):
    out, data, res = rare
    labels = data.labels.numpy()
    for path in sorted((out / "folds").glob("r0_f*.json")):
        rec = json.loads(path.read_text())
        used = set(rec["indices"]["inner_train"]) | set(rec["indices"]["val"]) | set(rec["indices"]["test"])
        dropped = sorted(set(range(len(data))) - used)
        assert dropped and all(labels[i] == 1 for i in dropped)  # only rare-class images left the training fold
        inner = _patients_by_class(rec["indices"]["inner_train"], labels, data.patients)
        dropped_patients = {data.patients[i] for i in dropped}
        assert len(inner[1]) == max(1, round(0.25 * (len(inner[1]) + len(dropped_patients))))
        assert "same_as" not in rec["arms"]["class-weight"]  # imbalanced: really trained with weights
        assert rec["gan_proof"]["cgan"]["excluded_indices_in_gan_train"] == 0  # dropped rare images stay out
    assert res["scenario"]["name"] == "rare-class" and res["scenario"]["rare_metric"] == "sensitivity"
    assert all("rare_class_sensitivity" in a for a in res["arms"])
    assert {a["kind"] for a in res["arms"]} >= {"control:class-weight", "control:strong-aug"}
    report = (out / "report.md").read_text()
    assert "rare_class.png" in report and (out / "figures" / "rare_class.png").exists()
    assert "Scenario subsets: 2 GAN(s)" in report and "left-out images in their training: 0" in report


def test_primary_endpoint_states_comparators_holm_and_power(rare):
    _, _, res = rare
    ep = res["primary_endpoint"]["cgan"]
    assert ep["comparator"] == "baseline" and ep["vs_best_control"]["comparator"] == "best control"
    for block in (ep, ep["vs_best_control"]):
        d = block["sensitivity_difference"]
        assert 0 <= d["holm_p"] <= 1 and d["holm_p"] >= d["p_value"] - 1e-12
        assert "detectable_difference" in d
    assert ep["selected_uses"] and all(isinstance(u, str) for u in ep["selected_uses"])


@pytest.mark.parametrize("name", ["confidence", "proximity"])
def test_curation_filters_run_in_the_benchmark(tmp_path, name):
    torch.set_num_threads(1)
    cfg = small_config(synthetic_filter=name, tstr=False, quality=False)
    res = run_benchmark(cfg, tmp_path, data=tiny_data(), gan_factory=FakeFactory(), progress=False, log=lambda s: None)
    totals = res["synthetic_filter"]["cgan"]
    assert sum(totals["kept"]) <= sum(totals["drawn"]) and sum(totals["drawn"]) > 0


def test_report_names_departures_from_the_default_preset():
    from medgan.benchmark.config import default_config
    from medgan.benchmark.report import _departures_from_default

    assert _departures_from_default(default_config().to_dict()) == ""
    text = _departures_from_default(default_config(folds=4, ratios=(0.0, 1.0), gan_steps=1000, controls=()).to_dict())
    default_steps = MODEL_DEFAULTS[default_config().models[0]]["steps"]
    assert text == f"folds 4 (default 5), ratios 0/1 (default 0/0.5/1/2), gan steps 1000 (default {default_steps}), " \
                   "controls none (default duplicate/class-weight/strong-aug)"
    cgan_run = default_config(models=("cgan",), gan_steps=1000).to_dict()  # each model has its own default steps
    assert _departures_from_default(cgan_run) == \
        f"models cgan (default fastgan), gan steps 1000 (default {MODEL_DEFAULTS['cgan']['steps']})"
    assert _departures_from_default(default_config(models=("cgan",)).to_dict()) == "models cgan (default fastgan)"
    one_se = default_config(selection_rule="one-se").to_dict()
    assert _departures_from_default(one_se) == "selection rule one-se (default best)"
    assert _departures_from_default(BenchmarkConfig(preset="quick").to_dict()) == ""  # presets say what they are


def test_reading_of_a_reduced_run_names_only_what_applies():
    from medgan.benchmark.config import default_config
    from medgan.benchmark.report import _reading_of_departures

    only_repeats = _reading_of_departures(default_config(repeats=1).to_dict())
    assert "intervals" in only_repeats and "GAN" not in only_repeats
    short_gan = _reading_of_departures(default_config(gan_steps=1000).to_dict())
    assert "shorter GANs" in short_gan and "intervals" not in short_gan
    assert "same options" in _reading_of_departures(default_config(ratios=(0.0, 1.0)).to_dict())

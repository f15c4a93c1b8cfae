"""Statistics: CIs of constants are points, a planted paired difference is detected, none is not."""
import numpy as np
import pytest

from medgan.benchmark import metrics as M
from medgan.benchmark import stats as S


def test_mean_ci_constant_is_point():
    r = S.mean_ci([0.8, 0.8, 0.8, 0.8])
    assert r["mean"] == pytest.approx(0.8) and r["ci95"] == [pytest.approx(0.8)] * 2


def test_mean_ci_by_hand():
    r = S.mean_ci([1.0, 2.0, 3.0])  # mean 2, sd 1, se 1/sqrt3, t(.975, 2) = 4.3027
    half = 4.302652729911275 / np.sqrt(3)
    assert r["ci95"] == [pytest.approx(2 - half), pytest.approx(2 + half)]


def test_mean_ci_ignores_nan():
    assert S.mean_ci([float("nan"), 1.0])["mean"] == 1.0
    assert S.mean_ci([])["n"] == 0


def test_corrected_ttest_wider_than_plain_and_detects():
    d = np.array([0.05, 0.06, 0.04, 0.05, 0.07, 0.03, 0.05, 0.06, 0.04, 0.05])
    r = S.corrected_ttest(d, test_train_ratio=0.25)
    plain = S.mean_ci(d)
    assert r["ci95"][0] < plain["ci95"][0] and r["ci95"][0] > 0 and r["p_value"] < 0.01
    assert S.corrected_ttest(np.zeros(5), 0.25)["p_value"] == 1.0


def test_wilcoxon():
    assert S.wilcoxon_p(np.zeros(6)) == 1.0
    assert S.wilcoxon_p(np.arange(1, 11) * 0.01) < 0.01


def test_cluster_resample_keeps_patients_whole_and_classes_present():
    labels = np.array([0, 0, 0, 1, 1, 1])
    patients = ["a", "a", "b", "c", "c", "d"]
    rng = np.random.default_rng(0)
    for _ in range(20):
        idx = S.stratified_cluster_resample(labels, patients, rng)
        assert set(labels[idx]) == {0, 1}
        picked = np.asarray(patients)[idx]
        for p in ("a", "c"):  # a two-image patient comes with both images or not at all
            assert np.sum(picked == p) % 2 == 0


def _fake_folds(rng, planted: float):
    """Two arms on 4 folds; 'better' calls positives correctly more often by `planted`."""
    folds, preds = [], {"base": [], "better": []}
    for _ in range(4):
        n = 60
        labels = np.r_[np.zeros(n // 2, int), np.ones(n // 2, int)]
        patients = [f"p{i}" for i in range(n)]
        folds.append((labels, patients))
        for arm, acc in (("base", 0.7), ("better", 0.7 + planted)):
            correct = rng.random(n) < acc
            called = np.where(correct, labels, 1 - labels)
            preds[arm].append(np.stack([1 - called, called], 1).astype(float))
    return folds, preds


@pytest.mark.parametrize("planted,significant", [(0.25, True), (0.0, False)])
def test_paired_bootstrap_detects_planted_difference(planted, significant):
    rng = np.random.default_rng(1)
    folds, preds = _fake_folds(rng, planted)

    def score(arm, f, idx):
        return M.score_predictions(preds[arm][f][idx], folds[f][0][idx], {1: 0.5}, positive=1)

    res = S.paired_cluster_bootstrap(folds, score, ["base", "better"], "base", ["balanced_accuracy", "auc"],
                                     n_boot=300, seed=0)
    r = res["better"]["balanced_accuracy"]
    assert r["ci95"][0] <= r["mean"] <= r["ci95"][1]
    if significant:
        assert r["ci95"][0] > 0 and r["p_value"] < 0.01
    else:
        assert r["ci95"][0] < 0 < r["ci95"][1] and r["p_value"] > 0.05


def test_paired_bootstrap_identical_arms_is_zero_point():
    rng = np.random.default_rng(2)
    folds, preds = _fake_folds(rng, 0.0)
    preds["better"] = preds["base"]

    def score(arm, f, idx):
        return M.score_predictions(preds[arm][f][idx], folds[f][0][idx], {1: 0.5}, positive=1)

    r = S.paired_cluster_bootstrap(folds, score, ["base", "better"], "base", ["sensitivity"], n_boot=50)["better"]
    assert r["sensitivity"]["ci95"] == [0.0, 0.0] and r["sensitivity"]["p_value"] == 1.0

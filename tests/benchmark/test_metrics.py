"""Metrics against confusion matrices worked out by hand."""
import numpy as np
import pytest

from medgan.benchmark import metrics as M
from medgan.errors import ConfigError


def test_confusion_counts_by_hand():
    # truth: P P P N N N N ; called: P N P P N N N  -> tp=2 fn=1 tn=3 fp=1
    t = np.array([1, 1, 1, 0, 0, 0, 0], bool)
    p = np.array([1, 0, 1, 1, 0, 0, 0], bool)
    assert M.confusion_counts(t, p) == (2, 1, 3, 1)
    assert M.sensitivity(t, p) == pytest.approx(2 / 3)
    assert M.specificity(t, p) == pytest.approx(3 / 4)


def test_sensitivity_nan_without_positives():
    assert np.isnan(M.sensitivity(np.zeros(3, bool), np.ones(3, bool)))


@pytest.mark.parametrize(
    "truth,score,expected",
    [
        ([1, 1, 0, 0], [0.9, 0.8, 0.2, 0.1], 1.0),
        ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9], 0.0),
        ([1, 0, 1, 0], [0.9, 0.8, 0.3, 0.1], 0.75),  # pairs: (.9>.8)(.9>.1)(.3<.8)(.3>.1) -> 3/4
        ([1, 0], [0.5, 0.5], 0.5),  # a tie counts half
    ],
)
def test_auc_by_hand(truth, score, expected):
    assert M.roc_auc(np.array(truth, bool), np.array(score)) == pytest.approx(expected)


def test_auc_matches_sklearn():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    t = rng.integers(0, 2, 50).astype(bool)
    s = np.round(rng.random(50), 1)  # with ties
    assert M.roc_auc(t, s) == pytest.approx(roc_auc_score(t, s))


def test_youden_threshold_separates_perfectly():
    t = np.array([0, 0, 0, 1, 1], bool)
    s = np.array([0.1, 0.2, 0.3, 0.7, 0.8])
    thr = M.choose_threshold(t, s, "youden")
    assert 0.3 < thr <= 0.7
    assert M.sensitivity(t, s >= thr) == 1.0 and M.specificity(t, s >= thr) == 1.0


def test_target_sensitivity_threshold():
    t = np.array([1, 1, 1, 1, 0, 0, 0, 0], bool)
    s = np.array([0.9, 0.8, 0.4, 0.2, 0.7, 0.3, 0.1, 0.05])
    thr = M.choose_threshold(t, s, "target_sensitivity", target_sensitivity=0.75)
    assert M.sensitivity(t, s >= thr) >= 0.75
    # highest such threshold: catches .9 .8 .4 -> between .4 and .3
    assert 0.3 < thr <= 0.4
    with pytest.raises(ConfigError):
        M.choose_threshold(t, s, "bogus")


def test_binary_scoring_by_hand():
    # positive class 1; threshold 0.5: called positive = rows 0,1,3
    probs1 = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.4])
    probs = np.stack([1 - probs1, probs1], 1)
    labels = np.array([1, 1, 1, 0, 0, 0])  # tp=2 fn=1 tn=2 fp=1
    out = M.score_predictions(probs, labels, {1: 0.5}, positive=1)
    assert out["sensitivity"] == pytest.approx(2 / 3)
    assert out["specificity"] == pytest.approx(2 / 3)
    assert out["balanced_accuracy"] == pytest.approx(2 / 3)
    # AUC: positives .9 .6 .2 vs negatives .7 .1 .4 -> wins: .9:3, .6:2, .2:1 -> 6/9
    assert out["auc"] == pytest.approx(6 / 9)


def test_multiclass_one_vs_rest_macro_by_hand():
    probs = np.array([
        [0.8, 0.1, 0.1],  # label 0, called 0
        [0.6, 0.3, 0.1],  # label 1, called 0 (class 1 missed)
        [0.1, 0.8, 0.1],  # label 1, called 1
        [0.1, 0.1, 0.8],  # label 2, called 2
    ])
    labels = np.array([0, 1, 1, 2])
    out = M.score_predictions(probs, labels, {0: 0.5, 1: 0.5, 2: 0.5}, positive=None)
    # class 0: tp1 fn0 | tn2 fp1 -> sens 1, spec 2/3 ; class 1: tp1 fn1 | tn2 fp0 -> .5, 1 ; class 2: 1, 1
    assert out["sensitivity/1"] == pytest.approx(0.5)
    assert out["specificity/0"] == pytest.approx(2 / 3)
    assert out["sensitivity"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert out["specificity"] == pytest.approx((2 / 3 + 1 + 1) / 3)
    assert out["balanced_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)
    # JSON round trip turns threshold keys into strings: still accepted
    again = M.score_predictions(probs, labels, {"0": 0.5, "1": 0.5, "2": 0.5}, positive=None)
    assert again["sensitivity"] == out["sensitivity"]


@pytest.mark.parametrize("positive,n_classes", [(1, 2), (None, 3)])
def test_weighted_scorer_equals_scoring_the_drawn_cases(positive, n_classes):
    rng = np.random.default_rng(3)
    labels = rng.integers(0, n_classes, 40)
    probs = rng.dirichlet(np.ones(n_classes), 40).round(1)  # rounded: many tied scores
    thresholds = {str(c): 0.35 for c in range(n_classes)}  # JSON-style keys
    scorer = M.WeightedScorer(probs, labels, thresholds, positive)
    for _ in range(20):
        idx = rng.choice(40, size=int(rng.integers(5, 60)), replace=True)
        fast = scorer.score(np.bincount(idx, minlength=40))
        slow = M.score_predictions(probs[idx], labels[idx], thresholds, positive)
        for m in M.METRICS:
            assert fast[m] == pytest.approx(slow[m], abs=1e-12, nan_ok=True), m


@pytest.mark.parametrize("positive,n_classes", [(1, 2), (None, 3)])
def test_weighted_scorer_fast_path_equals_sklearn_sample_weight(positive, n_classes):
    from sklearn.metrics import confusion_matrix, roc_auc_score

    rng = np.random.default_rng(5)
    labels = rng.integers(0, n_classes, 50)
    probs = rng.dirichlet(np.ones(n_classes), 50).round(1)  # ties
    thresholds = {c: 0.4 for c in range(n_classes)}
    scorer = M.WeightedScorer(probs, labels, thresholds, positive)
    classes = [positive] if positive is not None else list(range(n_classes))
    for _ in range(10):
        w = np.bincount(rng.integers(0, 50, 50), minlength=50)
        fast = scorer.score(w)
        sens, spec, aucs = [], [], []
        for c in classes:
            t, s = labels == c, probs[:, c]
            (tn, fp), (fn, tp) = confusion_matrix(t, s >= 0.4, labels=[False, True], sample_weight=w)
            sens.append(tp / (tp + fn))
            spec.append(tn / (tn + fp))
            aucs.append(roc_auc_score(t, s, sample_weight=w))
        assert fast["sensitivity"] == pytest.approx(np.mean(sens), abs=1e-12)
        assert fast["specificity"] == pytest.approx(np.mean(spec), abs=1e-12)
        assert fast["auc"] == pytest.approx(np.mean(aucs), abs=1e-12)


def test_roc_points_match_the_definition_and_one_class_gives_zeros():
    t = np.array([1, 0, 1, 0, 1], bool)
    s = np.array([0.9, 0.9, 0.5, 0.2, 0.2])
    fpr, tpr, thr = M.roc_curve_points(t, s)
    assert np.isinf(thr[0]) and list(thr[1:]) == [0.9, 0.5, 0.2]
    for f, r, h in zip(fpr, tpr, thr):
        assert r == np.sum(t & (s >= h)) / 3 and f == np.sum(~t & (s >= h)) / 2
    fpr, tpr, _ = M.roc_curve_points(np.zeros(3, bool), np.array([0.1, 0.2, 0.3]))
    assert not tpr.any() and fpr[-1] == 1.0
    assert np.isnan(M.roc_auc(np.ones(3, bool), np.array([0.1, 0.2, 0.3])))

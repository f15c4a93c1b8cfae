"""Classification metrics as pure functions: sensitivity, specificity, balanced accuracy, ROC AUC.

Binary tasks are scored for one *positive* class; multi-class tasks one-vs-rest per class and then
macro-averaged. The decision threshold is chosen on a validation split (Youden's J or a target
sensitivity) by :func:`choose_threshold` and then applied, unchanged, to the test split.
Everything here takes numpy arrays and returns floats/arrays -- no model, no RNG, no I/O.
The counts, AUC and ROC points come from scikit-learn (``confusion_matrix``, ``roc_auc_score``,
``roc_curve``); this module only composes them (positive class, one-vs-rest, thresholds, macro means),
except :class:`WeightedScorer`, the bootstrap's fast path (see there why).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import confusion_matrix, roc_auc_score, roc_curve

from medgan.errors import ConfigError

METRICS = ("sensitivity", "specificity", "balanced_accuracy", "auc")


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray) -> tuple[int, int, int, int]:
    """(tp, fn, tn, fp) of boolean/0-1 arrays ``y_true`` (is positive) and ``y_pred`` (called positive),
    from scikit-learn's ``confusion_matrix``."""
    t = np.asarray(y_true, dtype=bool).ravel()
    p = np.asarray(y_pred, dtype=bool).ravel()
    (tn, fp), (fn, tp) = confusion_matrix(t, p, labels=[False, True])
    return int(tp), int(fn), int(tn), int(fp)


def sensitivity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """TP / (TP + FN); NaN when there is no positive example."""
    tp, fn, _, _ = confusion_counts(y_true, y_pred)
    return tp / (tp + fn) if tp + fn else float("nan")


def specificity(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """TN / (TN + FP); NaN when there is no negative example."""
    _, _, tn, fp = confusion_counts(y_true, y_pred)
    return tn / (tn + fp) if tn + fp else float("nan")


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve (scikit-learn ``roc_auc_score``: ties count half); NaN if one class is absent."""
    t = np.asarray(y_true, dtype=bool).ravel()
    if t.all() or not t.any():
        return float("nan")
    return float(roc_auc_score(t, np.asarray(score, dtype=np.float64).ravel()))


def macro_auc(labels: np.ndarray, probs: np.ndarray) -> float:
    """Mean one-vs-rest AUC over the classes of ``probs`` (N, C) that can be scored (some but not all
    ``labels`` equal them); NaN when none can. With two softmax classes both AUCs are equal: it is the AUC."""
    labels = np.asarray(labels)
    return _nanmean([roc_auc(labels == c, probs[:, c]) for c in range(probs.shape[1])])


def roc_curve_points(y_true: np.ndarray, score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fpr, tpr, thresholds) with thresholds descending from ``inf``, one per distinct score; a case is
    positive when ``score >= threshold`` (scikit-learn ``roc_curve`` without dropping points). Without
    positives (negatives) the tpr (fpr) is 0 throughout."""
    t = np.asarray(y_true, dtype=bool).ravel()
    s = np.asarray(score, dtype=np.float64).ravel()
    with warnings.catch_warnings():  # one class absent: sklearn warns and returns NaN for that rate
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        fpr, tpr, thr = roc_curve(t, s, drop_intermediate=False)
    thr = np.r_[np.inf, thr[1:]]  # sklearn's first threshold is inf (>= 1.3) or max + 1 (older)
    return np.nan_to_num(fpr, nan=0.0), np.nan_to_num(tpr, nan=0.0), thr


def choose_threshold(y_true: np.ndarray, score: np.ndarray, method: str = "youden",
                     target_sensitivity: float = 0.9) -> float:
    """Decision threshold on validation scores (call positive when ``score >= threshold``).

    Args:
        y_true: boolean, is the case positive.
        score: higher means more likely positive.
        method: ``"youden"`` maximises sensitivity + specificity - 1; ``"target_sensitivity"`` takes
            the highest threshold whose sensitivity reaches ``target_sensitivity``; ``"fixed"`` is 0.5.
        target_sensitivity: used by ``"target_sensitivity"``.

    The returned threshold sits midway between the chosen score and the next lower one, so it does not
    hinge on a single validation score. Without both classes it falls back to 0.5.
    """
    if method == "fixed":
        return 0.5
    if method not in ("youden", "target_sensitivity"):
        raise ConfigError(f"unknown threshold method {method!r}", "use 'youden', 'target_sensitivity' or 'fixed'")
    t = np.asarray(y_true, dtype=bool)
    s = np.asarray(score, dtype=np.float64)
    if t.all() or (~t).all():
        return 0.5
    fpr, tpr, thr = roc_curve_points(t, s)
    if method == "youden":
        k = int(np.argmax(tpr - fpr))
    else:
        ok = np.flatnonzero(tpr >= target_sensitivity)
        k = int(ok[0]) if len(ok) else len(thr) - 1
    chosen = thr[k]
    lower = s[s < chosen]
    if not np.isfinite(chosen):
        return float(s.max() + 1e-6)
    return float((chosen + lower.max()) / 2.0) if len(lower) else float(chosen - 1e-6)


def one_vs_rest_scores(probs: np.ndarray, labels: np.ndarray, positive: int | None) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """The (class, is_positive, score) triples scored for a task.

    Binary with ``positive`` set: one triple for that class. Otherwise one per class (one-vs-rest).
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    classes = [positive] if (positive is not None and probs.shape[1] == 2) else list(range(probs.shape[1]))
    return [(c, labels == c, probs[:, c]) for c in classes]


def choose_thresholds(probs: np.ndarray, labels: np.ndarray, positive: int | None, method: str = "youden",
                      target_sensitivity: float = 0.9) -> dict[int, float]:
    """Per-class decision thresholds chosen on validation probabilities (see :func:`choose_threshold`)."""
    return {c: choose_threshold(t, s, method, target_sensitivity) for c, t, s in one_vs_rest_scores(probs, labels, positive)}


def called_labels(probs: np.ndarray, thresholds: dict, positive: int | None) -> np.ndarray:
    """The class each case is called at the operating point: binary (``positive`` set, 2 classes) the
    positive class when its probability reaches its threshold, else the other class; multi-class the
    arg-max (the decision :func:`balanced_accuracy` scores)."""
    probs = np.asarray(probs, dtype=np.float64)
    if positive is not None and probs.shape[1] == 2:
        return np.where(probs[:, positive] >= _threshold(thresholds, positive), positive, 1 - positive)
    return probs.argmax(axis=1)


def score_predictions(probs: np.ndarray, labels: np.ndarray, thresholds: dict[int, float],
                      positive: int | None) -> dict[str, float]:
    """Sensitivity, specificity, balanced accuracy and AUC of class probabilities at fixed thresholds.

    Binary (``positive`` set, 2 classes): the metrics of the positive class; balanced accuracy is
    (sensitivity + specificity) / 2. Multi-class: per-class one-vs-rest sensitivity/specificity at each
    class's threshold, macro-averaged; AUC is the one-vs-rest macro AUC; balanced accuracy is the mean
    per-class recall of the arg-max prediction. Per-class values are returned as ``"<metric>/<class>"``.
    """
    probs = np.asarray(probs, dtype=np.float64)
    labels = np.asarray(labels)
    out: dict[str, float] = {}
    sens, spec, aucs = [], [], []
    for c, t, s in one_vs_rest_scores(probs, labels, positive):
        called = s >= _threshold(thresholds, c)
        sens.append(sensitivity(t, called))
        spec.append(specificity(t, called))
        aucs.append(roc_auc(t, s))
        out[f"sensitivity/{c}"], out[f"specificity/{c}"], out[f"auc/{c}"] = sens[-1], spec[-1], aucs[-1]
    out["sensitivity"] = _nanmean(sens)
    out["specificity"] = _nanmean(spec)
    out["auc"] = _nanmean(aucs)
    if len(sens) == 1:
        out["balanced_accuracy"] = (out["sensitivity"] + out["specificity"]) / 2.0
    else:
        out["balanced_accuracy"] = balanced_accuracy(labels, probs.argmax(axis=1), probs.shape[1])
    return out


class WeightedScorer:
    """:func:`score_predictions` of one fixed set of predictions under case weights, for the bootstrap.

    A bootstrap replicate is the same test cases drawn with multiplicities ``w`` (``np.bincount`` of the
    drawn indices); everything that does not depend on ``w`` -- who is called positive at the fixed
    thresholds, the arg-max prediction, the pairwise order of positive and negative scores -- is computed
    once here. ``score(w)`` then equals ``score_predictions(probs[idx], labels[idx], ...)`` for the
    headline metrics (AUC as the weighted share of correctly ordered positive/negative pairs, ties half,
    which is what the mid-rank formula computes). On the committed phantom run (10 folds of 60 test
    images, 6 arms) 1000 replicates took 29 CPU seconds instead of 127, with identical results.

    It stays hand-written on purpose: scikit-learn's weighted ``confusion_matrix`` + ``roc_auc_score(...,
    sample_weight=w)`` give the same numbers (to 1e-16; ``tests/benchmark/test_metrics.py`` checks it) but
    re-sort the scores for every replicate: 1000 replicates of 60 binary cases took 5.1 s there against
    0.15 s here (35x, measured on a shared 2-core CPU), i.e. minutes per report.
    """

    def __init__(self, probs: np.ndarray, labels: np.ndarray, thresholds: dict, positive: int | None) -> None:
        probs = np.asarray(probs, dtype=np.float64)
        self.labels = np.asarray(labels)
        self.n_classes = probs.shape[1]
        self.pred = probs.argmax(axis=1)
        self.per_class = []
        for c, t, s in one_vs_rest_scores(probs, self.labels, positive):
            called = s >= _threshold(thresholds, c)
            pos, neg = np.flatnonzero(t), np.flatnonzero(~t)
            order = (s[pos, None] > s[None, neg]) + 0.5 * (s[pos, None] == s[None, neg])
            self.per_class.append((t & called, ~t & ~called, pos, neg, order))

    def score(self, w: np.ndarray) -> dict[str, float]:
        """Sensitivity, specificity, balanced accuracy and AUC with case ``i`` counted ``w[i]`` times."""
        w = np.asarray(w, dtype=np.float64)
        sens, spec, aucs = [], [], []
        for true_pos, true_neg, pos, neg, order in self.per_class:
            wp, wn = w[pos].sum(), w[neg].sum()
            sens.append(float(w[true_pos].sum() / wp) if wp else float("nan"))
            spec.append(float(w[true_neg].sum() / wn) if wn else float("nan"))
            aucs.append(float(w[pos] @ order @ w[neg] / (wp * wn)) if wp and wn else float("nan"))
        out = {"sensitivity": _nanmean(sens), "specificity": _nanmean(spec), "auc": _nanmean(aucs)}
        if len(sens) == 1:
            out["balanced_accuracy"] = (out["sensitivity"] + out["specificity"]) / 2.0
        else:
            hits = np.bincount(self.labels, weights=w * (self.pred == self.labels), minlength=self.n_classes)
            totals = np.bincount(self.labels, weights=w, minlength=self.n_classes)
            present = totals > 0
            out["balanced_accuracy"] = float(np.mean(hits[present] / totals[present])) if present.any() else float("nan")
        return out


def _threshold(thresholds: dict, c: int) -> float:
    """Class ``c``'s threshold; after a JSON round trip the keys are strings."""
    return thresholds[c] if c in thresholds else thresholds[str(c)]


def balanced_accuracy(labels: np.ndarray, pred: np.ndarray, n_classes: int) -> float:
    """Mean per-class recall over the classes present in ``labels``."""
    labels = np.asarray(labels)
    pred = np.asarray(pred)
    recalls = [float(np.mean(pred[labels == c] == c)) for c in range(n_classes) if np.any(labels == c)]
    return float(np.mean(recalls)) if recalls else float("nan")


def _nanmean(values: Sequence[float]) -> float:
    arr = np.asarray(values, dtype=np.float64)
    return float(np.nanmean(arr)) if np.any(np.isfinite(arr)) else float("nan")

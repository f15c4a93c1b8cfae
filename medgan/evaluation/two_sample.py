"""Classifier two-sample test: can a simple classifier tell real from synthetic?

A logistic regression on standardised features is trained to separate real from synthetic samples and
scored by stratified, patient-grouped K-fold cross-validation (held-out folds only). Balanced held-out accuracy near
0.5 means indistinguishable; near 1.0 means the synthetic images are trivially recognisable. A
binomial-style standard error ``sqrt(0.25 / n)`` is reported so 0.5 +- noise is not over-read.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = ["two_sample_test"]


def _np(x: Any) -> np.ndarray:
    arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return arr.astype(np.float64).reshape(arr.shape[0], -1)


def two_sample_test(real: Any, fake: Any, n_splits: int = 5, seed: int = 0, C: float = 1.0,
                    real_groups: Sequence[str] | None = None) -> dict[str, float]:
    """Held-out balanced accuracy of a real-vs-synthetic logistic regression on features.

    ``real_groups`` (patient ids of the real samples) keeps all slices of one patient in one fold:
    otherwise the classifier could recognise a patient seen in training and inflate the accuracy.
    Synthetic samples are each their own group.

    Returns ``{"accuracy", "stderr", "n_real", "n_synthetic", "n_splits"}``; accuracy is NaN when either
    side has fewer samples than folds.
    """
    r, f = _np(real), _np(fake)
    out = {"accuracy": float("nan"), "stderr": float("nan"), "n_real": int(r.shape[0]),
           "n_synthetic": int(f.shape[0]), "n_splits": int(n_splits)}
    k = min(int(n_splits), r.shape[0], f.shape[0])
    if k < 2:
        return out
    x = np.concatenate([r, f])
    y = np.concatenate([np.zeros(r.shape[0], dtype=int), np.ones(f.shape[0], dtype=int)])
    pred = np.zeros_like(y)
    if real_groups is None:
        groups = np.arange(y.size).astype(str)
    else:
        groups = np.concatenate([np.asarray([f"r:{g}" for g in real_groups]), np.asarray([f"s:{i}" for i in range(f.shape[0])])])
        k = min(k, len(set(groups[: r.shape[0]])))
        if k < 2:
            return out
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=int(seed))
    for train, test in cv.split(x, y, groups):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=C, solver="liblinear", max_iter=500))
        clf.fit(x[train], y[train])
        pred[test] = clf.predict(x[test])
    out["accuracy"] = float(balanced_accuracy_score(y, pred))
    out["stderr"] = float(np.sqrt(0.25 / y.size))
    out["n_splits"] = int(k)
    return out

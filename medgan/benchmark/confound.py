"""Confound check: how well does a classifier do that sees only acquisition metadata?

Each item keeps its original size, file format and channel mode. If a trivial model on
(height, width, aspect, area, format, mode) separates the classes, a CNN can too -- without looking at
anatomy. We report its ROC AUC on the same patient-grouped test folds as the CNN, so the reader can
compare the two numbers side by side.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from medgan.benchmark.metrics import roc_auc
from medgan.benchmark.stats import mean_ci


def metadata_features(meta: Sequence[dict[str, Any]]) -> tuple[np.ndarray, list[str]]:
    """(N, F) float features and their names from per-item metadata.

    Numeric: original height, width, aspect (w/h), log area; one-hot: every format and mode seen.
    Missing fields become 0.
    """
    sizes = np.array([tuple(m.get("orig_size") or (0, 0))[:2] for m in meta], dtype=np.float64).reshape(len(meta), 2)
    h, w = sizes[:, 0], sizes[:, 1]
    cols = [h, w, np.where(h > 0, w / np.maximum(h, 1), 0.0), np.log1p(h * w)]
    names = ["orig_height", "orig_width", "aspect", "log_area"]
    for key in ("format", "mode"):
        values = [str(m.get(key, "")) for m in meta]
        for v in sorted(set(values)):
            cols.append(np.array([x == v for x in values], dtype=np.float64))
            names.append(f"{key}={v}")
    return np.stack(cols, 1), names


def _auc(labels: np.ndarray, probs: np.ndarray, positive: int | None) -> float:
    if probs.shape[1] == 2 and positive is not None:
        return roc_auc(labels == positive, probs[:, positive])
    vals = [roc_auc(labels == c, probs[:, c]) for c in range(probs.shape[1])]
    return float(np.nanmean(vals)) if np.any(np.isfinite(vals)) else float("nan")


def confound_check(meta: Sequence[dict[str, Any]], labels: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]],
                   n_classes: int, positive: int | None, seed: int = 0) -> dict[str, Any]:
    """Metadata-only classifiers evaluated on the benchmark's own folds.

    Args:
        meta: per-item metadata (``orig_size``, ``format``, ``mode``).
        labels: int labels.
        folds: ``(train_indices, test_indices)`` per fold (the CNN's folds, all repeats).
        n_classes: number of classes; positive: positive class index for binary tasks.
        seed: random-forest seed.

    Returns ``{"features", "models": {name: {"auc": {"mean", "ci95"}, "per_fold"}}, "best_auc",
    "informative"}`` where ``informative`` is False when every feature is constant (nothing to learn).
    """
    x, names = metadata_features(meta)
    labels = np.asarray(labels)
    informative = bool(np.any(np.ptp(x, axis=0) > 1e-9))
    makers = {
        "logistic_regression": lambda: make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "random_forest": lambda: RandomForestClassifier(n_estimators=200, min_samples_leaf=2, random_state=seed, n_jobs=1),
    }
    models: dict[str, Any] = {}
    for name, make in makers.items():
        per_fold = []
        for train_idx, test_idx in folds:
            if not informative or len(np.unique(labels[train_idx])) < 2:
                per_fold.append(0.5)  # constant features carry no information: chance
                continue
            model = make().fit(x[train_idx], labels[train_idx])
            probs = np.zeros((len(test_idx), n_classes))
            probs[:, model.classes_ if hasattr(model, "classes_") else model[-1].classes_] = model.predict_proba(x[test_idx])
            per_fold.append(_auc(labels[test_idx], probs, positive))
        models[name] = {"auc": mean_ci(per_fold), "per_fold": per_fold}
    means = [m["auc"]["mean"] for m in models.values()]
    best = float(np.nanmax(means)) if np.any(np.isfinite(means)) else float("nan")
    return {"features": names, "models": models, "best_auc": best, "informative": informative}

"""Patient-grouped, class-stratified splits: slices of one patient never straddle train and test."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold

from medgan.errors import ConfigError, DataError

__all__ = ["grouped_split", "grouped_kfold", "check_no_straddle"]


def _as_arrays(labels: Sequence[int], groups: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(labels).astype(np.int64).ravel()
    g = np.asarray([str(x) for x in groups])
    if y.shape[0] != g.shape[0]:
        raise ConfigError(f"{y.shape[0]} labels but {g.shape[0]} patient ids", "pass one patient id per item")
    if y.shape[0] == 0:
        raise DataError("cannot split an empty dataset", "load some data first")
    return y, g


def _check_patients_per_class(y: np.ndarray, g: np.ndarray, needed: int, what: str, class_names=None) -> None:
    for c in np.unique(y):
        n = len(np.unique(g[y == c]))
        if n < needed:
            name = class_names[int(c)] if class_names is not None and int(c) < len(class_names) else f"label {int(c)}"
            fewer = f"use at most {n} folds, or " if what == "folds" and n >= 2 else ""
            raise DataError(
                f"class {name} has {n} patient(s), fewer than the {needed} {what}",
                f"{fewer}add patients of class {name}, or check how patient ids are derived (docs/data.md: "
                "patient_regex, patients.csv)",
            )


def grouped_kfold(
    labels: Sequence[int], groups: Sequence[str], n_splits: int = 3, seed: int = 0, class_names=None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified, patient-grouped K-fold (scikit-learn ``StratifiedGroupKFold``, shuffled by ``seed``).

    Returns:
        ``n_splits`` pairs ``(train_idx, test_idx)`` of sorted int64 indices; every item is in exactly
        one test fold; no patient appears on both sides. Same inputs + seed -> same folds.

    Raises:
        DataError: a class has fewer patients than folds (the message names the class).
    """
    if int(n_splits) < 2:
        raise ConfigError(f"n_splits must be >= 2, got {n_splits}", "e.g. 3 or 5 folds")
    y, g = _as_arrays(labels, groups)
    _check_patients_per_class(y, g, int(n_splits), "folds", class_names)
    # StratifiedGroupKFold's shuffle permutes groups; pass a fixed integer seed for determinism.
    cv = StratifiedGroupKFold(n_splits=int(n_splits), shuffle=True, random_state=int(seed))
    folds = []
    for train, test in cv.split(np.zeros(len(y)), y, g):
        folds.append((np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)))
    return folds


def grouped_split(
    labels: Sequence[int], groups: Sequence[str], test_fraction: float = 0.25, seed: int = 0, class_names=None
) -> tuple[np.ndarray, np.ndarray]:
    """One stratified, patient-grouped train/test split with about ``test_fraction`` of items in test.

    Implemented as the fold of a ``StratifiedGroupKFold(round(1 / test_fraction))`` whose test size is
    closest to ``test_fraction``; deterministic for ``seed``.
    """
    if not 0.0 < float(test_fraction) < 1.0:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}", "e.g. 0.2")
    y, g = _as_arrays(labels, groups)
    _check_patients_per_class(y, g, 2, "needed to put the class on both sides of a split", class_names)
    frac = min(float(test_fraction), 1.0 - float(test_fraction))
    k = max(2, int(round(1.0 / frac)))
    k = min(k, min(len(np.unique(g[y == c])) for c in np.unique(y)))
    cv = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=int(seed))
    target = float(test_fraction) * len(y)
    best = None
    for train, test in cv.split(np.zeros(len(y)), y, g):
        if float(test_fraction) > 0.5:  # large test fraction: the complement of one fold
            train, test = test, train
        score = abs(len(test) - target)
        if best is None or score < best[0]:
            best = (score, np.sort(train).astype(np.int64), np.sort(test).astype(np.int64))
    assert best is not None
    return best[1], best[2]


def check_no_straddle(groups: Sequence[str], train_idx, test_idx) -> None:
    """Raise DataError if any patient has items on both sides of the split."""
    g = np.asarray([str(x) for x in groups])
    both = set(g[np.asarray(train_idx, dtype=np.int64)]) & set(g[np.asarray(test_idx, dtype=np.int64)])
    if both:
        raise DataError(f"patients on both sides of a split: {sorted(both)[:5]}", "split by patient id")

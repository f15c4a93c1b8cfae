"""Patient-grouped stratified splits and the near-duplicate audit."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from medgan.data import check_no_straddle, grouped_kfold, grouped_split
from medgan.data.duplicates import find_near_duplicates, merge_duplicate_groups
from medgan.errors import ConfigError, DataError


def _toy(n_patients=(8, 6, 10), slices=3):
    labels, groups = [], []
    for c, n in enumerate(n_patients):
        for p in range(n):
            k = 1 + (p % slices)  # 1..3 slices per patient
            labels += [c] * k
            groups += [f"c{c}p{p}"] * k
    return np.array(labels), np.array(groups)


def test_kfold_no_straddle_full_cover_deterministic_stratified():
    y, g = _toy()
    folds = grouped_kfold(y, g, n_splits=3, seed=5)
    assert len(folds) == 3
    tests = np.concatenate([te for _, te in folds])
    assert sorted(tests.tolist()) == list(range(len(y)))  # every item tested exactly once
    for train, test in folds:
        assert not set(g[train]) & set(g[test])
        check_no_straddle(g, train, test)
        assert set(y[test]) == {0, 1, 2}  # every class in every test fold
        assert len(np.intersect1d(train, test)) == 0
    again = grouped_kfold(y, g, n_splits=3, seed=5)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))
    other = grouped_kfold(y, g, n_splits=3, seed=6)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other))


def test_kfold_too_few_patients_names_the_class():
    y, g = _toy((8, 2, 10))
    with pytest.raises(DataError, match="class hemangioma has 2 patient"):
        grouped_kfold(y, g, n_splits=3, class_names=["cyst", "hemangioma", "metastasis"])
    with pytest.raises(DataError, match="class label 1 has 2"):
        grouped_kfold(y, g, n_splits=3)
    with pytest.raises(ConfigError):
        grouped_kfold(y, g, n_splits=1)


@pytest.mark.parametrize("fraction", [0.2, 0.25, 0.33, 0.5, 0.7])
def test_grouped_split_fraction_and_grouping(fraction):
    y, g = _toy((20, 20, 20), slices=1)  # one slice each: fraction is reachable
    train, test = grouped_split(y, g, test_fraction=fraction, seed=0)
    assert len(train) + len(test) == len(y) and not set(g[train]) & set(g[test])
    assert abs(len(test) / len(y) - fraction) < 0.1
    assert set(y[test]) == {0, 1, 2}
    train2, test2 = grouped_split(y, g, test_fraction=fraction, seed=0)
    assert np.array_equal(test, test2)


def test_grouped_split_bad_arguments():
    y, g = _toy()
    with pytest.raises(ConfigError):
        grouped_split(y, g, test_fraction=1.0, seed=0)
    with pytest.raises(ConfigError):
        grouped_split(y, g[:-1], test_fraction=0.2, seed=0)
    with pytest.raises(DataError, match="class label 0 has 1"):
        grouped_split([0, 1, 1], ["a", "b", "c"], test_fraction=0.3, seed=0)


def test_near_duplicates_found_and_merged_ids_keep_copies_together():
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(12, 1, 40, 40, generator=gen)
    x[5] = x[2] * 3.0 - 1.0  # same picture, other contrast (correlation 1)
    x[9] = x[2] + 0.01 * torch.rand(1, 40, 40, generator=gen)  # nearly the same
    x[10] = x[11] = 0.25  # two blank images
    groups = find_near_duplicates(x, threshold=0.99)
    assert groups == [[2, 5, 9], [10, 11]]
    assert find_near_duplicates(x.numpy()[:, 0], threshold=0.99) == groups  # arrays and (N, H, W) too
    assert find_near_duplicates(torch.rand(20, 1, 32, 32, generator=gen)) == []
    patients = [f"p{i}" for i in range(12)]
    patients[9] = "p7"  # p7 owns a copy of p2's image
    merged = merge_duplicate_groups(patients, groups)
    assert merged[2] == merged[5] == merged[9] == merged[7] == "dup:p2"
    assert merged[10] == merged[11] == "dup:p10" and merged[0] == "p0"
    labels = np.zeros(12, dtype=int)
    labels[::2] = 1
    for train, test in grouped_kfold(labels, merged, n_splits=2, seed=0):
        assert not set(np.array(merged)[train]) & set(np.array(merged)[test])
        for grp in groups:
            assert set(grp) <= set(train.tolist()) or set(grp) <= set(test.tolist())


def test_count_near_copies_uses_the_audit_rows():
    from medgan.data.duplicates import correlation_rows, count_near_copies

    gen = torch.Generator().manual_seed(3)
    x = torch.rand(6, 1, 64, 64, generator=gen)
    x[4] = x[1] * 2 + 0.1  # a linear copy: correlation 1
    rows, flat = correlation_rows(x)
    assert rows.shape == (6, 32 * 32) and not flat.any()
    assert abs(float(rows[1] @ rows[4]) - 1) < 1e-9
    assert count_near_copies(x, [4, 5], [0, 1, 2], 0.99) == 1 and count_near_copies(x, [], [0], 0.99) == 0

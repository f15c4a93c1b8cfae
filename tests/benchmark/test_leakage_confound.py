"""Leakage audit merges planted near-copies across patients; the confound check sees metadata."""
import numpy as np
import torch

from medgan.benchmark.confound import confound_check, metadata_features
from medgan.benchmark.leakage import audit, cross_split_duplicates
from medgan.data.splits import grouped_kfold


def test_planted_copies_are_merged_and_never_straddle():
    rng = np.random.default_rng(0)
    imgs = torch.as_tensor(rng.normal(size=(20, 1, 16, 16)).astype(np.float32))
    imgs[7] = imgs[2] + 0.001  # near-copy of image 2 under another patient id
    patients = [f"p{i}" for i in range(20)]
    merged, rep = audit(imgs, patients, 0.99)
    assert rep["groups"] == 1 and rep["groups_spanning_patients"] == 1
    assert rep["patients_after"] == 19 and merged[2] == merged[7]
    labels = np.array([i % 2 for i in range(20)])
    labels[7] = labels[2]
    for tr, te in grouped_kfold(labels, merged, 3, seed=0):
        assert cross_split_duplicates(imgs, tr, te, 0.99) == 0
    # under image-level folds the copy would leak:
    assert cross_split_duplicates(imgs, np.array([2]), np.array([7]), 0.99) == 1


def test_confound_check_finds_size_signal_and_constant_metadata():
    labels = np.array([0, 1] * 20)
    meta = [{"orig_size": (200 + 100 * y, 300), "format": "png", "mode": "RGB" if y else "L"} for y in labels]
    x, names = metadata_features(meta)
    assert x.shape == (40, len(names)) and "mode=RGB" in names
    folds = [(np.arange(40)[np.arange(40) % 5 != k], np.arange(40)[np.arange(40) % 5 == k]) for k in range(5)]
    res = confound_check(meta, labels, folds, 2, positive=1)
    assert res["informative"] and res["best_auc"] > 0.95
    flat = [{"orig_size": (128, 128), "format": "phantom", "mode": "float32"} for _ in labels]
    res = confound_check(flat, labels, folds, 2, positive=1)
    assert not res["informative"] and res["best_auc"] == 0.5

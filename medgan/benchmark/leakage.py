"""Leakage audit: near-duplicate images must never straddle train and test.

Near-duplicates (Pearson correlation above a threshold after resizing) are merged into one
pseudo-patient before the folds are drawn, so a copy of a test image can never sit in training.
After the split, :func:`cross_split_duplicates` re-checks every fold and the count is reported
(it must be 0).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from medgan.data.duplicates import find_near_duplicates, merge_duplicate_groups


def _unit_rows(images: torch.Tensor, size: int = 32) -> torch.Tensor:
    """Flattened, mean-centred, unit-norm rows (down-sampled to ``size``) for correlations."""
    x = images.float()
    if x.shape[-1] > size:
        x = torch.nn.functional.adaptive_avg_pool2d(x, size)
    x = x.reshape(len(x), -1)
    x = x - x.mean(1, keepdim=True)
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)


def near_duplicate_groups(images: torch.Tensor, threshold: float = 0.99) -> list[list[int]]:
    """Groups (size >= 2) of near-duplicate images (:func:`medgan.data.duplicates.find_near_duplicates`)."""
    return [sorted(int(i) for i in g) for g in find_near_duplicates(images, threshold=threshold)]


def merge_groups(patients: Sequence[str], groups: Sequence[Sequence[int]]) -> list[str]:
    """Patient ids where each near-duplicate group (with all its patients' images) is one pseudo-patient."""
    return list(merge_duplicate_groups(list(patients), [list(g) for g in groups]))


def audit(images: torch.Tensor, patients: Sequence[str], threshold: float = 0.99) -> tuple[list[str], dict[str, Any]]:
    """Find near-duplicates and merge them into pseudo-patients.

    Returns ``(merged patient ids, report)``; the report counts groups, images in groups, groups that
    spanned several patient ids (these would have leaked under patient folds), and patients before/after.
    """
    groups = near_duplicate_groups(images, threshold)
    merged = merge_groups(patients, groups)
    spanning = sum(1 for g in groups if len({patients[i] for i in g}) > 1)
    report = {
        "threshold": threshold,
        "groups": len(groups),
        "images_in_groups": int(sum(len(g) for g in groups)),
        "groups_spanning_patients": spanning,
        "patients_before": len(set(patients)),
        "patients_after": len(set(merged)),
    }
    return merged, report


def cross_split_duplicates(images: torch.Tensor, train_idx: np.ndarray, test_idx: np.ndarray,
                           threshold: float = 0.99) -> int:
    """Number of test images with a near-copy (correlation >= threshold) among the training images."""
    if len(train_idx) == 0 or len(test_idx) == 0:
        return 0
    rows = _unit_rows(images)
    tr = rows[torch.as_tensor(np.asarray(train_idx), dtype=torch.long)]
    te = rows[torch.as_tensor(np.asarray(test_idx), dtype=torch.long)]
    hits = 0
    for start in range(0, len(te), 512):
        hits += int(((te[start:start + 512] @ tr.T).max(1).values >= threshold).sum())
    return hits

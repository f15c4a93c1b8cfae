"""Leakage audit: near-duplicate images must never straddle train and test.

Near-duplicates (Pearson correlation of 32x32 area-resized images at or above a threshold) are merged into one
pseudo-patient before the folds are drawn, so a copy of a test image can never sit in training.
After the split, :func:`cross_split_duplicates` re-checks every fold and the count is reported
(it must be 0).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from medgan.data.duplicates import count_near_copies, find_near_duplicates, merge_duplicate_groups


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
    """Number of test images with a near-copy (correlation >= threshold) among the training images.

    The same correlation rows as the audit (:func:`medgan.data.duplicates.correlation_rows`).
    """
    return count_near_copies(images, test_idx, train_idx, threshold)

"""The scenarios' training subsets: a learning-curve fraction and a rare class, inside one fold.

Both act on the fold's *inner training* indices only (validation and test stay whole) and are
patient-grouped: a patient's images are kept or dropped together.

- :func:`fraction_subset`: per class (a patient counts for the class most of its images have), keep
  ``max(1, round(f * n))`` of its patients. The patients are taken in one seeded order per class, so the
  subsets are nested: the patients at 0.25 are among those at 0.5.
- :func:`rare_subset`: of the patients with images of the rare class, keep ``max(1, round(f * n))``;
  the other patients lose their rare-class images and keep the rest.
"""
from __future__ import annotations

from collections import Counter
from typing import Sequence

import numpy as np

__all__ = ["fraction_subset", "rare_subset", "scenario_seed"]


def scenario_seed(fold_seed: int) -> int:
    """The seed of a fold's patient orders (the same for every fraction, so the subsets nest)."""
    return int(fold_seed) + 4242


def _ordered(patients: Sequence[str], seed: int, salt: int) -> list[str]:
    """``patients`` (unique, sorted) in a seeded random order."""
    unique = sorted(set(patients))
    rng = np.random.default_rng([int(seed), int(salt)])
    return [unique[i] for i in rng.permutation(len(unique))]


def _keep(n: int, fraction: float) -> int:
    return n if fraction >= 1 else max(1, int(round(fraction * n)))


def fraction_subset(labels: np.ndarray, idx: np.ndarray, patients: Sequence[str], fraction: float,
                    seed: int) -> np.ndarray:
    """The indices of ``idx`` whose patients are in the kept, class-stratified ``fraction`` (sorted)."""
    idx = np.asarray(idx)
    if fraction >= 1:
        return idx
    by_patient: dict[str, Counter] = {}
    for i in idx:
        by_patient.setdefault(patients[i], Counter())[int(labels[i])] += 1
    major = {p: min(c, key=lambda k: (-c[k], k)) for p, c in by_patient.items()}
    kept: set[str] = set()
    for label in sorted(set(major.values())):
        group = [p for p in by_patient if major[p] == label]
        kept.update(_ordered(group, seed, label)[:_keep(len(group), fraction)])
    return np.asarray(sorted(i for i in idx if patients[i] in kept), dtype=np.int64)


def rare_subset(labels: np.ndarray, idx: np.ndarray, patients: Sequence[str], rare_label: int, fraction: float,
                seed: int) -> np.ndarray:
    """``idx`` without the rare-class images of all but the kept ``fraction`` of the rare class's patients."""
    idx = np.asarray(idx)
    with_rare = [patients[i] for i in idx if int(labels[i]) == rare_label]
    order = _ordered(with_rare, seed, 10_000 + rare_label)
    kept = set(order[:_keep(len(order), fraction)])
    return np.asarray([i for i in idx if int(labels[i]) != rare_label or patients[i] in kept], dtype=np.int64)

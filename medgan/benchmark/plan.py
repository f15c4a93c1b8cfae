"""The benchmark's split plan, drawn and checked before anything trains.

Every outer fold of every repeat (:func:`plan_splits`) and every fold's inner validation split
(:func:`inner_split`, which :func:`medgan.benchmark.fold.run_fold` calls) come from here, with the seeds
of :func:`fold_seed`. :func:`check_plan` draws them all once at the start of a run and raises one
:class:`DataError` if any split would fail or leave a class out of a part: it names the class, the
patient group that makes the plan infeasible (e.g. one patient holding 82 % of a class) and the fixes
that exist (fewer folds where a smaller K works, patient ids from file names, more patients).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from medgan.benchmark.config import BenchmarkConfig
from medgan.data.splits import grouped_kfold, grouped_split
from medgan.errors import ConfigError, DataError

__all__ = ["Split", "fold_seed", "plan_splits", "inner_split", "find_problem", "check_plan"]

#: ``(repeat, fold, train_idx, test_idx)``
Split = tuple[int, int, np.ndarray, np.ndarray]


def fold_seed(config: BenchmarkConfig, repeat: int, fold: int) -> int:
    """Seed of one (repeat, fold): its inner split, GAN and classifiers."""
    return config.seed + 1000 * repeat + 10 * fold


def plan_splits(labels: np.ndarray, patients: Sequence[str], config: BenchmarkConfig,
                class_names: Sequence[str]) -> list[Split]:
    """``(repeat, fold, train_idx, test_idx)`` for every outer fold; repeat ``r`` uses seed ``seed + 1000 r``."""
    out = []
    for r in range(config.repeats):
        folds = grouped_kfold(labels, patients, config.folds, config.seed + 1000 * r, class_names=list(class_names))
        out += [(r, f, tr, te) for f, (tr, te) in enumerate(folds)]
    return out


def inner_split(labels: np.ndarray, train_idx: np.ndarray, patients: Sequence[str], val_fraction: float, seed: int,
                class_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """The patient-grouped inner training / validation split of one outer training part (global indices)."""
    labels = np.asarray(labels)
    in_rel, val_rel = grouped_split(labels[train_idx], [patients[i] for i in train_idx], val_fraction, seed,
                                    class_names=list(class_names))
    return np.sort(train_idx[in_rel]), np.sort(train_idx[val_rel])


@dataclass
class Problem:
    """Why a plan is infeasible: where (``repeat``/``fold`` None for the outer folds), which class, what."""

    repeat: int | None
    fold: int | None
    label: int
    what: str


def find_problem(labels: np.ndarray, patients: Sequence[str], config: BenchmarkConfig,
                 class_names: Sequence[str]) -> Problem | None:
    """The first split of the plan that would fail or leave a class out of a part; None if all hold."""
    return _scan(labels, patients, config, class_names)[0]


def _scan(labels: np.ndarray, patients: Sequence[str], config: BenchmarkConfig,
          class_names: Sequence[str]) -> tuple[Problem | None, list[Split]]:
    """``(first problem or None, the outer splits)``: each split drawn once (they cost ~0.5 s per 1000 patients)."""
    labels, pats = np.asarray(labels), np.asarray([str(p) for p in patients])
    n_classes = len(class_names)
    per_class = [len(set(pats[labels == c])) for c in range(n_classes)]
    few = int(np.argmin(per_class))
    if per_class[few] < config.folds:
        return Problem(None, None, few, f"{per_class[few]} patient(s), fewer than the {config.folds} folds"), []
    splits = plan_splits(labels, patients, config, class_names)
    return _scan_splits(labels, pats, config, class_names, splits), splits


def _scan_splits(labels: np.ndarray, pats: np.ndarray, config: BenchmarkConfig, class_names: Sequence[str],
                 splits: list[Split]) -> Problem | None:
    n_classes = len(class_names)
    for r, f, tr, te in splits:
        for part, idx in (("test fold", te), ("training part", tr)):
            missing = _missing(labels[idx], n_classes)
            if missing is not None:
                return Problem(r, f, missing, f"no images in the {part}")
        train_patients = [len(set(pats[tr][labels[tr] == c])) for c in range(n_classes)]
        few = int(np.argmin(train_patients))
        if train_patients[few] < 2:
            return Problem(r, f, few, f"{train_patients[few]} patient(s) in the training part, fewer than the 2 "
                                      "an inner validation split needs")
        inner, val = inner_split(labels, tr, pats, config.val_fraction, fold_seed(config, r, f), class_names)
        for part, idx in (("inner validation split", val), ("inner training split", inner)):
            missing = _missing(labels[idx], n_classes)
            if missing is not None:
                return Problem(r, f, missing, f"no images in the {part}")
    return None


def _missing(labels: np.ndarray, n_classes: int) -> int | None:
    counts = np.bincount(labels, minlength=n_classes)
    return int(np.flatnonzero(counts == 0)[0]) if (counts == 0).any() else None


def check_plan(labels: np.ndarray, patients: Sequence[str], config: BenchmarkConfig,
               class_names: Sequence[str]) -> list[Split]:
    """Every outer split of every repeat (see :func:`plan_splits`) after checking the whole plan.

    Raises:
        DataError: one message naming the fold, the class, its largest patient group and its share, with
            the fixes that exist; raised before anything is trained or written.
    """
    if config.rare_class is not None and config.rare_class not in list(class_names):
        raise ConfigError(f"--rare-class {config.rare_class!r} is not one of the classes {list(class_names)}",
                          f"use e.g. --rare-class {class_names[-1]}")
    problem, splits = _scan(labels, patients, config, class_names)
    if problem is None:
        return splits
    name = class_names[problem.label]
    where = "the outer folds" if problem.repeat is None else f"repeat {problem.repeat} fold {problem.fold}"
    raise DataError(f"the benchmark plan is infeasible (nothing was trained): in {where} class {name} has "
                    f"{problem.what}; {largest_group(labels, patients, problem.label, name)}",
                    _fixes(labels, patients, config, class_names, name))


def largest_group(labels: np.ndarray, patients: Sequence[str], label: int, name: str) -> str:
    """``"patient covid/2020 holds 286 of the 349 images (82 %) of class covid (64 patients)"``."""
    labels = np.asarray(labels)
    groups = Counter(np.asarray(patients)[labels == label].tolist())
    patient, n = groups.most_common(1)[0]
    total = int((labels == label).sum())
    return (f"its largest patient group {patient} holds {n} of its {total} images ({100 * n / total:.0f} %; "
            f"{len(groups)} patient(s) in class {name})")


def _fixes(labels: np.ndarray, patients: Sequence[str], config: BenchmarkConfig, class_names: Sequence[str],
           name: str) -> str:
    fixes = []
    fewer = next((k for k in range(config.folds - 1, 1, -1)
                  if find_problem(labels, patients, replace(config, folds=k), class_names) is None), None)
    if fewer is not None:
        fixes.append(f"use --folds {fewer} (the largest K whose every split holds)")
    fixes.append("if one patient id covers slices of many people, derive patient ids from the file names with "
                 "--data 'DIR:patient_regex=REGEX' or a patients.csv (docs/data.md; `medgan data` shows the groups)")
    fixes.append(f"add images of more patients of class {name}")
    return "; or ".join(fixes)

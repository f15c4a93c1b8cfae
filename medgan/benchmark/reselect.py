"""Choose a finished run's headline arm again under another selection rule, without retraining.

Every candidate of the selected arm (the baseline and each synthetic use) is trained and scored in every
fold, and its validation and test results are saved in ``DIR/folds``; only the choice between them depends
on the selection rule. :func:`reselect_run` copies a finished benchmark folder, re-chooses each fold's
``<model> selected`` arm by the new rule (:mod:`medgan.benchmark.selection`) and rewrites ``results.json``
and ``report.md`` from the copied folds. ``medgan compare RUN NEW`` then gives the paired difference.
"""
from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from medgan.benchmark.arms import SELECTED, candidate_arm, parse_arm, use_of_ratio
from medgan.benchmark.compare import load_folds
from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.protocol import load_prepared, rewrite_results
from medgan.benchmark.selection import selected_record
from medgan.errors import ConfigError, DataError
from medgan.utils.atomic import atomic_save_json
from medgan.utils.lock import LOCK_NAME

#: What a copy leaves behind: the fold GANs (large, and not needed to choose again) and the folder lock.
_NOT_COPIED = ("gan", LOCK_NAME)


def _as_use(key: str) -> str:
    """A ``selected_from`` key as a use: records written before the uses existed key the candidates by
    ratio (``"0"`` the baseline, ``"0.5"`` the mix at 0.5)."""
    try:
        return use_of_ratio(float(key))
    except ValueError:
        return key


def reselect_fold(record: dict[str, Any], config: BenchmarkConfig, val_counts: list[int]) -> dict[str, Any]:
    """``record`` (one saved fold) with each selected arm chosen again by ``config.selection_rule``."""
    arms = dict(record["arms"])
    for name, rec in record["arms"].items():
        arm = parse_arm(name)
        if arm.kind != SELECTED:
            continue
        uses = [_as_use(u) for u in rec["selected_from"]]
        candidates = {u: candidate_arm(arm.model, u, arm.real_fraction).name for u in uses}
        arms[name] = selected_record(candidates, arms, config.selection_metric, config.selection_rule, val_counts)
    return {**record, "arms": arms, "protocol_hash": config.protocol_hash()}


def _check_folders(src: Path, out: Path, folds: list[dict[str, Any]], config: BenchmarkConfig) -> None:
    """Refuse an ``out`` inside ``src`` or holding files, and a ``src`` without all its finished ``folds``."""
    if out.resolve() == src.resolve() or out.resolve().is_relative_to(src.resolve()):
        raise ConfigError("the re-selected run must go to a folder outside RUN", "pass a new --out folder")
    if out.exists() and any(p.name != LOCK_NAME for p in out.iterdir()):
        raise ConfigError(f"{out} is not empty", "choose a new folder for the re-selected run")
    found, expected = len(folds), config.folds * config.repeats
    if found < expected:
        raise DataError(f"{src} holds {found} of its {expected} folds (of its protocol)",
                        "finish its benchmark first (rerun it to resume)")


def _copy_run(src: Path, out: Path) -> None:
    """Copy ``src`` into ``out`` without the GAN checkpoints and the folder lock."""
    shutil.copytree(src, out, ignore=lambda d, names: [n for n in names if Path(d) == src and n in _NOT_COPIED],
                    dirs_exist_ok=True)


def reselect_run(run_dir: str | Path, out_dir: str | Path, rule: str, data: Any = None,
                 log: Callable[[str], None] = print) -> dict[str, Any]:
    """Copy the finished run ``run_dir`` to ``out_dir`` with its selected arms chosen by ``rule``; returns
    the new ``results.json`` dict (nothing is retrained; the GAN checkpoints are not copied)."""
    src, out = Path(run_dir), Path(out_dir)
    by_fold, saved = load_folds(src)
    old = BenchmarkConfig.from_dict(saved["config"])
    config = replace(old, selection_rule=rule).validate()
    folds = [rec for rec in by_fold.values() if rec.get("protocol_hash") == old.protocol_hash()]
    _check_folders(src, out, folds, config)
    data = load_prepared(config) if data is None else data
    labels, k = data.labels.numpy(), len(data.class_names)
    _copy_run(src, out)
    for record in folds:
        val_counts = np.bincount(labels[record["indices"]["val"]], minlength=k).tolist()
        atomic_save_json(out / "folds" / f"r{record['repeat']}_f{record['fold']}.json",
                         reselect_fold(record, config, val_counts))
    results = json.loads((out / "results.json").read_text())
    results["config"] = config.to_dict()
    atomic_save_json(out / "results.json", results)
    if (out / "config.json").exists():
        payload = json.loads((out / "config.json").read_text())
        atomic_save_json(out / "config.json", {**payload, "config": config.to_dict(),
                                               "protocol_hash": config.protocol_hash()})
    log(f"re-chose the selected arms of {src} by the {rule} rule into {out}")
    return rewrite_results(out, data=data, log=log, command=f"medgan reselect {src} --rule {rule} --out {out}")

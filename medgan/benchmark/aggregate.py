"""Turn finished folds into ``results.json``: per-arm means + 95 % CIs, paired comparisons, endpoint.

Every number here is computed from the saved per-fold predictions; nothing is typed by hand.
"""
from __future__ import annotations

import math
import platform
from collections import Counter
from typing import Any, Callable, Sequence

import monai
import numpy as np
import scipy
import sklearn
import torch

from medgan._version import __version__
from medgan.benchmark.arms import SELECTED, Arm, arm_fields, parse_arm, planned_arms
from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.metrics import METRICS, WeightedScorer
from medgan.benchmark.stats import corrected_ttest, mean_ci, paired_cluster_bootstrap, wilcoxon_p


def arm_order(records: Sequence[dict[str, Any]], config: BenchmarkConfig) -> list[str]:
    """Arm names in report order: baseline, then per model its ratios, synthetic only, selected."""
    present = set(records[0]["arms"])
    planned = planned_arms(config.models, config.synthetic_ratios, True, config.tstr_ratio)
    return [a.name for a in planned if a.name in present]


def _clears_zero(diff: dict[str, Any]) -> bool:
    """A gain counts only when both lower bounds clear 0: the patient-cluster bootstrap's (models held
    fixed) and the corrected t-test's across folds (which also counts classifier retraining noise: on
    one split the seed alone moved test AUC by sd 3 points here, see docs/benchmark.md)."""
    t = diff.get("corrected_t") or {"ci95": [float("nan")] * 2}
    return bool(diff["ci95"][0] > 0 and t["ci95"][0] > 0)


def versions(device: str) -> dict[str, str]:
    """Versions of the software that produced the numbers."""
    return {"medgan": __version__, "python": platform.python_version(), "torch": torch.__version__,
            "monai": monai.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "scikit-learn": sklearn.__version__, "platform": platform.platform(), "device": device,
            "torch_threads": str(torch.get_num_threads())}


def clean(obj: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {str(k): clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(float(obj)) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def _bounded(e: dict[str, Any]) -> dict[str, Any]:
    """Clip a t-interval of a proportion to [0, 1] (few folds give wide intervals)."""
    e["ci95"] = [min(1.0, max(0.0, v)) if np.isfinite(v) else v for v in e["ci95"]]
    return e


def positive_index(results: dict[str, Any]) -> int | None:
    """The positive class's index recorded in a ``results.json`` dict (None for a multi-class task)."""
    d = results["data"]
    return d["classes"].index(d["positive_class"]) if d.get("positive_class") is not None else None


def arm_scorers(records: Sequence[dict[str, Any]], arms: Sequence[str], positive: int | None) -> dict[str, list[WeightedScorer]]:
    """Per arm, one :class:`WeightedScorer` per fold record: its test predictions at its own thresholds."""
    return {a: [WeightedScorer(np.asarray(r["arms"][a]["test_probs"]), np.asarray(r["test_labels"]),
                               r["arms"][a]["thresholds"], positive) for r in records] for a in arms}


def bootstrap_score(scorers: dict[str, list[WeightedScorer]]) -> Callable[[str, int, np.ndarray], dict[str, float]]:
    """``score(arm, fold, drawn_indices)`` for :func:`paired_cluster_bootstrap` (= score_predictions on the drawn cases)."""
    def score(arm: str, f: int, idx: np.ndarray) -> dict[str, float]:
        s = scorers[arm][f]
        return s.score(np.bincount(idx, minlength=len(s.labels)))
    return score


def test_train_ratio(records: Sequence[dict[str, Any]]) -> float:
    """Mean test size over mean training size (inner training + validation) of the folds, for the corrected t-test."""
    n_test = np.mean([r["counts"]["test"] for r in records])
    n_train = np.mean([r["counts"]["inner_train"] + r["counts"]["val"] for r in records])
    return float(n_test / max(n_train, 1))


def paired_difference(boot: dict[str, Any], fold_diffs: Sequence[float], ratio: float) -> dict[str, Any]:
    """One metric's paired difference: the bootstrap result plus the corrected t-test and Wilcoxon of ``fold_diffs``."""
    return {**boot, "method": "paired patient-cluster bootstrap", "corrected_t": corrected_ttest(fold_diffs, ratio),
            "wilcoxon_p": wilcoxon_p(fold_diffs)}


def aggregate(records: Sequence[dict[str, Any]], config: BenchmarkConfig, data: Any, positive: int | None,
              leakage: dict[str, Any], confound: dict[str, Any], device: str = "cpu") -> dict[str, Any]:
    """The ``results.json`` dict (keys: config, versions, data, arms, primary_endpoint, confound, leakage,
    timing; the caller adds ``timing.total_seconds``, which includes this bootstrap)."""
    arms = arm_order(records, config)
    names = list(data.class_names)
    per_class_keys = [f"{m}/{c}" for m in ("sensitivity", "specificity", "auc")
                      for c in ([positive] if positive is not None else range(len(names)))]
    folds = [(np.asarray(r["test_labels"]), r["test_patients"]) for r in records]
    score = bootstrap_score(arm_scorers(records, arms, positive))
    paired = paired_cluster_bootstrap(folds, score, arms, "baseline", list(METRICS), config.n_boot, config.seed)
    ratio = test_train_ratio(records)
    out_arms = []
    for a in arms:
        arm = parse_arm(a)
        entry: dict[str, Any] = {"name": a}
        ratios = [r["arms"][a]["synthetic_ratio"] for r in records]
        entry["synthetic_ratio"] = ratios[0] if len(set(map(str, ratios))) == 1 else "selected per fold"
        if arm.kind == SELECTED:
            entry["selected_ratios"] = ratios
        entry["real_images"] = arm.uses_real
        for m in METRICS:
            entry[m] = _bounded(mean_ci([r["arms"][a]["test"][m] for r in records]))
        entry["per_class"] = {k: _bounded(mean_ci([r["arms"][a]["test"].get(k, float("nan")) for r in records]))
                              for k in per_class_keys}
        entry["per_fold"] = [{"repeat": r["repeat"], "fold": r["fold"], **{m: r["arms"][a]["test"][m] for m in METRICS},
                              "val": {m: r["arms"][a]["val"][m] for m in METRICS},
                              "thresholds": r["arms"][a]["thresholds"], "n_train": r["arms"][a]["n_train"],
                              "train": r["arms"][a]["train"]} for r in records]
        if a != "baseline":
            diffs = {}
            for m in METRICS:
                d = [r["arms"][a]["test"][m] - r["arms"]["baseline"]["test"][m] for r in records]
                diffs[m] = paired_difference(paired[a][m], d, ratio)
            entry["difference_vs_baseline"] = diffs
            entry["p_value_vs_baseline"] = {m: diffs[m]["p_value"] for m in METRICS}
        else:
            entry["p_value_vs_baseline"] = None
        entry.update(arm_fields(a))  # additive keys: kind, real_fraction
        out_arms.append(entry)
    primary = {}
    for m in config.models:
        e = next((x for x in out_arms if x["name"] == Arm(m, SELECTED).name), None)
        if e is None:
            continue
        sens, spec = e["difference_vs_baseline"]["sensitivity"], e["difference_vs_baseline"]["specificity"]
        primary[m] = {"arm": e["name"], "selected_ratios": e["selected_ratios"],
                      "sensitivity_difference": {k: sens[k] for k in ("mean", "ci95", "p_value", "corrected_t")},
                      "specificity_difference": {k: spec[k] for k in ("mean", "ci95", "p_value", "corrected_t")},
                      "sensitivity_ci_lower_above_0": _clears_zero(sens),
                      "specificity_ci_lower_above_0": _clears_zero(spec)}
    counts = np.bincount(data.labels.numpy(), minlength=len(names))
    timing = {k: float(sum(r["timing"][k] for r in records)) for k in ("gan_seconds", "classifier_seconds", "synthesis_seconds", "fold_seconds")}
    timing.update(mean_fold_seconds=timing["fold_seconds"] / len(records),
                  per_fold_seconds=[r["timing"]["fold_seconds"] for r in records],
                  gans_reused=int(sum(r["timing"].get("gans_reused", 0) for r in records)),
                  fold_devices=dict(sorted(Counter(r.get("device", "not recorded") for r in records).items())))
    return clean({
        "config": config.to_dict(),
        "versions": versions(device),
        "data": {"spec": config.data, "fingerprint": data.fingerprint(), "classes": names,
                 "counts": {n: int(c) for n, c in zip(names, counts)}, "n_images": len(data),
                 "n_patients": len(set(data.patients)),
                 "task": "binary" if positive is not None else "multi-class one-vs-rest",
                 "positive_class": names[positive] if positive is not None else None,
                 "window": data.window.to_dict() if hasattr(data.window, "to_dict") else str(data.window)},
        "arms": out_arms,
        "primary_endpoint": primary,
        "confound": confound,
        "leakage": {**leakage, "test_near_copies_in_train_per_fold": [r["test_near_copies_in_train"] for r in records],
                    "gan_proof": [{"repeat": r["repeat"], "fold": r["fold"], **r["gan_proof"]} for r in records]},
        "timing": timing,
        "folds": [{"repeat": r["repeat"], "fold": r["fold"], **r["counts"]} for r in records],
        "quality": next((r.get("quality") for r in records if (r["repeat"], r["fold"]) == (0, 0)), None) or {},
        "synthetic_filter": _filter_totals(records),
    })


def _filter_totals(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model: synthetic images drawn, kept by the baseline filter and needed, per class summed over
    folds, and how many folds kept fewer than needed (empty without ``synthetic_filter``)."""
    out: dict[str, dict[str, Any]] = {}
    for r in records:
        for model, f in (r.get("synthetic_filter") or {}).items():
            t = out.setdefault(model, {"drawn": [0] * len(f["drawn"]), "kept": [0] * len(f["kept"]),
                                       "needed": [0] * len(f["needed"]), "folds_short": 0})
            for k in ("drawn", "kept", "needed"):
                t[k] = [a + b for a, b in zip(t[k], f[k])]
            t["folds_short"] += int(any(k < n for k, n in zip(f["kept"], f["needed"])))
    return out

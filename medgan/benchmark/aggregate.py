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
from medgan.benchmark.arms import BASELINE, SELECTED, Arm, arm_fields, parse_arm, planned_arms, use_of_ratio
from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.metrics import METRICS, WeightedScorer
from medgan.benchmark.stats import (
    corrected_ttest,
    detectable_difference,
    holm,
    mean_ci,
    paired_cluster_bootstrap,
    wilcoxon_p,
)


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
            "wilcoxon_p": wilcoxon_p(fold_diffs),
            "detectable_difference": detectable_difference(fold_diffs, ratio, boot.get("se"))}


def arm_order(records: Sequence[dict[str, Any]], config: BenchmarkConfig) -> list[str]:
    """Arm names in report order: per real fraction (largest first) baseline, controls, then per model its
    synthetic arms and the selected one."""
    present = set(records[0]["arms"])
    planned = planned_arms(config.models, config.synthetic_ratios, True, config.tstr_ratio, config.controls,
                           config.synthetic_uses, config.fractions)
    return [a.name for a in planned if a.name in present]


def rare_metric(config: BenchmarkConfig, class_names: Sequence[str], positive: int | None) -> str | None:
    """The test-score key of the rare class's sensitivity (its recall), or None without a rare class."""
    if config.rare_class is None:
        return None
    rare = list(class_names).index(config.rare_class)
    if positive is not None:
        return "sensitivity" if rare == positive else "specificity"
    return f"sensitivity/{rare}"


def best_control_name(fraction: float) -> str:
    """The pseudo-arm name of the best control (chosen per fold on inner validation) at ``fraction``."""
    return "best control" if fraction == 1 else f"best control real {fraction:g}"


def _comparisons(records: Sequence[dict[str, Any]], arms: list[str], config: BenchmarkConfig, positive: int | None,
                 metrics: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
    """Paired differences per arm: against its fraction's baseline, and (selected arms) against the best control.

    Returns ``{"vs_baseline": {arm: {metric: ...}}, "vs_best_control": {arm: {metric: ...}}}``.
    """
    scorers = arm_scorers(records, arms, positive)
    for fraction in config.fractions:  # the best control: the chosen control's predictions in each fold
        chosen = [r.get("best_control", {}).get(f"{fraction:g}") for r in records]
        if all(c in scorers for c in chosen):
            scorers[best_control_name(fraction)] = [scorers[c][f] for f, c in enumerate(chosen)]
    folds = [(np.asarray(r["test_labels"]), r["test_patients"]) for r in records]
    score, ratio = bootstrap_score(scorers), test_train_ratio(records)
    out: dict[str, dict[str, dict[str, Any]]] = {"vs_baseline": {}, "vs_best_control": {}}
    for fraction in config.fractions:
        mine = [a for a in arms if parse_arm(a).real_fraction == fraction]
        for key, reference, group in (
                ("vs_baseline", Arm(None, BASELINE).at_fraction(fraction).name, mine),
                ("vs_best_control", best_control_name(fraction), [a for a in mine if parse_arm(a).kind == SELECTED])):
            if reference not in scorers or not group:
                continue
            boot = paired_cluster_bootstrap(folds, score, group, reference, metrics, config.n_boot, config.seed)
            for a in group:
                if a == reference:
                    continue
                out[key][a] = {m: paired_difference(boot[a][m], [
                    _fold_metric(r, a, m, fraction) - _fold_metric(r, reference, m, fraction) for r in records],
                    ratio) for m in metrics}
                for m in metrics:
                    out[key][a][m]["comparator"] = reference
    return out


def _fold_metric(record: dict[str, Any], arm: str, metric: str, fraction: float) -> float:
    """A fold's test ``metric`` of ``arm`` (the best-control pseudo-arm reads the control chosen in that fold)."""
    if arm == best_control_name(fraction):
        arm = record["best_control"][f"{fraction:g}"]
    return record["arms"][arm]["test"].get(metric, float("nan"))


def _arm_entry(a: str, records: Sequence[dict[str, Any]], per_class_keys: list[str], diffs: dict[str, Any],
               scenario: str, rare_key: str | None) -> dict[str, Any]:
    """One arm's ``results.json`` entry: means + CIs, per class, per fold, differences, typed fields."""
    arm = parse_arm(a)
    entry: dict[str, Any] = {"name": a}
    ratios = [r["arms"][a]["synthetic_ratio"] for r in records]
    entry["synthetic_ratio"] = ratios[0] if len(set(map(str, ratios))) == 1 else "selected per fold"
    if arm.kind == SELECTED:
        entry["selected_ratios"] = ratios
        entry["selected_uses"] = [_selected_use(r["arms"][a], x) for r, x in zip(records, ratios)]
    entry["real_images"] = arm.uses_real
    for m in METRICS:
        entry[m] = _bounded(mean_ci([r["arms"][a]["test"][m] for r in records]))
    entry["per_class"] = {k: _bounded(mean_ci([r["arms"][a]["test"].get(k, float("nan")) for r in records]))
                          for k in per_class_keys}
    if rare_key is not None:
        entry["rare_class_sensitivity"] = _bounded(mean_ci([r["arms"][a]["test"].get(rare_key) for r in records]))
    entry["per_fold"] = [{"repeat": r["repeat"], "fold": r["fold"], **{m: r["arms"][a]["test"][m] for m in METRICS},
                          "val": {m: r["arms"][a]["val"][m] for m in METRICS},
                          "thresholds": r["arms"][a]["thresholds"], "n_train": r["arms"][a]["n_train"],
                          "train": r["arms"][a]["train"]} for r in records]
    if a in diffs["vs_baseline"]:
        entry["difference_vs_baseline"] = diffs["vs_baseline"][a]
        entry["p_value_vs_baseline"] = {m: diffs["vs_baseline"][a][m]["p_value"] for m in METRICS}
    else:
        entry["p_value_vs_baseline"] = None
    if a in diffs["vs_best_control"]:
        entry["difference_vs_best_control"] = diffs["vs_best_control"][a]
    entry.update(arm_fields(a, scenario))  # typed keys: kind, real_fraction, scenario
    return entry


def _selected_use(record: dict[str, Any], ratio: float | None) -> str:
    """What a fold's selected arm chose (records saved before synthetic uses existed: from the ratio)."""
    if "selected_use" in record:
        return record["selected_use"]
    return use_of_ratio(ratio)


def _endpoint(e: dict[str, Any], key: str, metrics: Sequence[str]) -> dict[str, Any]:
    """One headline comparison of a selected arm (``key``: difference_vs_baseline / _vs_best_control)."""
    d = e[key]
    out = {"comparator": d[metrics[0]]["comparator"]}
    for m in metrics:
        out[f"{m}_difference"] = {k: d[m].get(k) for k in ("mean", "ci95", "p_value", "corrected_t",
                                                          "detectable_difference")}
        out[f"{m}_ci_lower_above_0"] = _clears_zero(d[m])
    return out


def primary_endpoints(out_arms: list[dict[str, Any]], config: BenchmarkConfig, rare_key: str | None) -> tuple[dict, list]:
    """``(primary, scenario endpoints)``: per model the selected arm at the largest fraction vs the baseline
    (and vs the best control), and the same for every (model, fraction); Holm-adjusted over that family."""
    metrics = ["sensitivity", "specificity"] + ([rare_key] if rare_key and rare_key not in METRICS else [])
    endpoints, family = [], {}
    for fraction in config.fractions:
        for m in config.models:
            e = next((x for x in out_arms if x["name"] == Arm(m, SELECTED).at_fraction(fraction).name), None)
            if e is None or "difference_vs_baseline" not in e:
                continue
            ep = {"model": m, "real_fraction": fraction, "arm": e["name"], "selected_ratios": e["selected_ratios"],
                  "selected_uses": e["selected_uses"], **_endpoint(e, "difference_vs_baseline", metrics)}
            if "difference_vs_best_control" in e:
                ep["vs_best_control"] = _endpoint(e, "difference_vs_best_control", metrics)
            endpoints.append(ep)
            for i, (where, src) in enumerate((("vs_baseline", ep), ("vs_best_control", ep.get("vs_best_control")))):
                for metric in metrics if src else ():
                    family[(len(endpoints) - 1, i, metric)] = src[f"{metric}_difference"]["p_value"]
    adjusted = holm({str(k): v for k, v in family.items()})
    for (n, i, metric), _ in family.items():
        target = endpoints[n] if i == 0 else endpoints[n]["vs_best_control"]
        target[f"{metric}_difference"]["holm_p"] = adjusted[str((n, i, metric))]
    top = config.fractions[0]
    primary = {ep["model"]: ep for ep in endpoints if ep["real_fraction"] == top}
    return primary, endpoints


def learning_curve(out_arms: list[dict[str, Any]], config: BenchmarkConfig, records: Sequence[dict[str, Any]]) -> list[dict]:
    """Per real fraction: the baseline, the best control (per-fold choice) and each model's selected arm."""
    by_name = {a["name"]: a for a in out_arms}
    rows = []
    for fraction in sorted(config.fractions):
        row: dict[str, Any] = {"real_fraction": fraction}
        base = by_name.get(Arm(None, BASELINE).at_fraction(fraction).name)
        row["baseline"] = {m: base[m] for m in ("sensitivity", "specificity", "auc")} if base else None
        chosen = [r.get("best_control", {}).get(f"{fraction:g}") for r in records]
        if all(c in by_name for c in chosen):
            row["best_control"] = {m: _bounded(mean_ci([r["arms"][c]["test"][m] for r, c in zip(records, chosen)]))
                                   for m in ("sensitivity", "specificity", "auc")}
            row["best_control_choices"] = chosen
        for m in config.models:
            sel = by_name.get(Arm(m, SELECTED).at_fraction(fraction).name)
            if sel:
                row[f"{m} selected"] = {k: sel[k] for k in ("sensitivity", "specificity", "auc")}
        rows.append(row)
    return rows


def aggregate(records: Sequence[dict[str, Any]], config: BenchmarkConfig, data: Any, positive: int | None,
              leakage: dict[str, Any], confound: dict[str, Any], device: str = "cpu") -> dict[str, Any]:
    """The ``results.json`` dict (keys: config, versions, data, scenario, arms, primary_endpoint,
    scenario_endpoints, learning_curve, confound, leakage, timing; the caller adds ``timing.total_seconds``)."""
    arms = arm_order(records, config)
    names = list(data.class_names)
    per_class_keys = [f"{m}/{c}" for m in ("sensitivity", "specificity", "auc")
                      for c in ([positive] if positive is not None else range(len(names)))]
    rare_key = rare_metric(config, names, positive)
    metrics = list(METRICS) + ([rare_key] if rare_key and rare_key not in METRICS else [])
    diffs = _comparisons(records, arms, config, positive, metrics)
    out_arms = [_arm_entry(a, records, per_class_keys, diffs, config.scenario, rare_key) for a in arms]
    primary, endpoints = primary_endpoints(out_arms, config, rare_key)
    counts = np.bincount(data.labels.numpy(), minlength=len(names))
    return clean({
        "config": config.to_dict(),
        "versions": versions(device),
        "data": {"spec": config.data, "fingerprint": data.fingerprint(), "classes": names,
                 "counts": {n: int(c) for n, c in zip(names, counts)}, "n_images": len(data),
                 "n_patients": len(set(data.patients)),
                 "task": "binary" if positive is not None else "multi-class one-vs-rest",
                 "positive_class": names[positive] if positive is not None else None,
                 "window": data.window.to_dict() if hasattr(data.window, "to_dict") else str(data.window)},
        "scenario": {"name": config.scenario, "real_fractions": list(config.fractions),
                     "rare_class": config.rare_class, "rare_fraction": config.rare_fraction if config.rare_class else None,
                     "rare_metric": rare_key},
        "arms": out_arms,
        "primary_endpoint": primary,
        "scenario_endpoints": endpoints,
        "learning_curve": learning_curve(out_arms, config, records),
        "confound": confound,
        "leakage": {**leakage, "test_near_copies_in_train_per_fold": [r["test_near_copies_in_train"] for r in records],
                    "gan_proof": [{"repeat": r["repeat"], "fold": r["fold"], **r["gan_proof"]} for r in records]},
        "timing": _timing(records),
        "folds": [{"repeat": r["repeat"], "fold": r["fold"], **r["counts"]} for r in records],
        "quality": next((r.get("quality") for r in records if (r["repeat"], r["fold"]) == (0, 0)), None) or {},
        "synthetic_filter": _filter_totals(records),
    })


def _timing(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    timing: dict[str, Any] = {k: float(sum(r["timing"][k] for r in records))
                              for k in ("gan_seconds", "classifier_seconds", "synthesis_seconds", "fold_seconds")}
    timing.update(mean_fold_seconds=timing["fold_seconds"] / len(records),
                  per_fold_seconds=[r["timing"]["fold_seconds"] for r in records],
                  gans_reused=int(sum(r["timing"].get("gans_reused", 0) for r in records)),
                  fold_devices=dict(sorted(Counter(r.get("device", "not recorded") for r in records).items())))
    return timing


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

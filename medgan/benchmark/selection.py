"""How the headline arm is chosen on inner validation: the best candidate, or the one-standard-error rule.

The selected arm (``synthetic:selected``) picks, per fold, one of the baseline and the synthetic uses by
their inner-validation metric. With a validation split of a few dozen images that choice is noisy: a
synthetic use can win by a margin far inside the metric's sampling error, and ties are common near the
ceiling. Two rules:

- ``best``: the candidate with the highest validation metric; ties go to the lower validation loss, then
  to the earlier candidate (the rule of every run committed before 2026-12-07);
- ``one-se``: the one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani & Friedman, *The
  Elements of Statistical Learning*, 2nd ed., section 7.10): the simplest candidate -- the baseline --
  is kept unless the best candidate beats it by more than one standard error of the best candidate's
  validation metric. A synthetic use must earn its place by more than validation noise.

Standard errors: AUC by Hanley & McNeil (1982) from the AUC and the class counts (per scored class,
averaged: the upper bound for perfectly correlated one-vs-rest AUCs); balanced accuracy by the binomial
error of each class's recall.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

SELECTION_RULES = ("best", "one-se")
#: The candidate the one-standard-error rule prefers: the simplest (real images only).
SIMPLEST = "baseline"


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC estimated on ``n_positive`` + ``n_negative`` cases."""
    if not (np.isfinite(auc) and n_positive > 0 and n_negative > 0):
        return float("nan")
    q1, q2 = auc / (2 - auc), 2 * auc ** 2 / (1 + auc)
    var = (auc * (1 - auc) + (n_positive - 1) * (q1 - auc ** 2) + (n_negative - 1) * (q2 - auc ** 2))
    return math.sqrt(max(var, 0.0) / (n_positive * n_negative))


def _scored_classes(val: dict[str, float]) -> list[int]:
    return sorted(int(k.split("/")[1]) for k in val if k.startswith("auc/"))


def validation_standard_error(val: dict[str, float], metric: str, class_counts: Sequence[int]) -> float:
    """Standard error of ``val[metric]`` (an arm's inner-validation scores) on a split of ``class_counts``.

    ``auc``: the mean Hanley-McNeil error of the scored classes' one-vs-rest AUCs (``auc/<c>``).
    ``balanced_accuracy``: binary (one scored class) from its sensitivity and specificity; multi-class
    from the mean recall, class by class.
    """
    counts = [int(n) for n in class_counts]
    total, classes = sum(counts), _scored_classes(val)
    if metric == "auc":
        errors = [auc_standard_error(val[f"auc/{c}"], counts[c], total - counts[c]) for c in classes]
        return float(np.mean(errors)) if errors else float("nan")
    if len(classes) == 1:
        c = classes[0]
        sens, spec = val[f"sensitivity/{c}"], val[f"specificity/{c}"]
        return 0.5 * math.sqrt(sens * (1 - sens) / max(counts[c], 1) + spec * (1 - spec) / max(total - counts[c], 1))
    mean = val["balanced_accuracy"]
    return math.sqrt(sum(mean * (1 - mean) / max(n, 1) for n in counts)) / max(len(counts), 1)


def select_candidate(candidates: dict[str, str], arms: dict[str, dict[str, Any]], metric: str, rule: str = "best",
                     class_counts: Sequence[int] | None = None) -> str:
    """The candidate (``{use: arm name}``) chosen on inner validation by ``rule`` (see the module doc).

    ``best``: highest validation ``metric``; ties -> lower validation loss -> earlier candidate.
    ``one-se``: the ``best`` choice unless it beats the baseline candidate by no more than one standard
    error of its own validation metric (``class_counts``: the validation split's images per class).
    """
    order = {c: i for i, c in enumerate(candidates)}

    def value(c: str) -> float:
        v = arms[candidates[c]]["val"].get(metric, float("nan"))
        return v if np.isfinite(v) else -np.inf

    best = min(candidates, key=lambda c: (-value(c), arms[candidates[c]]["val_loss"], order[c]))
    if rule == "best" or SIMPLEST not in candidates or best == SIMPLEST:
        return best
    if class_counts is None:
        raise ValueError("the one-se rule needs the validation split's class counts")
    se = validation_standard_error(arms[candidates[best]]["val"], metric, class_counts)
    return best if value(best) - value(SIMPLEST) > (se if np.isfinite(se) else 0.0) else SIMPLEST


def selected_record(candidates: dict[str, str], records: dict[str, dict[str, Any]], metric: str,
                    rule: str = "best", class_counts: Sequence[int] | None = None) -> dict[str, Any]:
    """The record of the candidate chosen on inner validation (:func:`select_candidate`), with what it was
    chosen from; ``synthetic_ratio`` is the chosen mix ratio (0 for the baseline, None for balance/pretrain)."""
    chosen = select_candidate(candidates, records, metric, rule, class_counts)
    sel = dict(records[candidates[chosen]])
    sel["synthetic_ratio"] = 0.0 if chosen == "baseline" else float(chosen[4:]) if chosen.startswith("mix ") else None
    sel["selected_use"] = chosen
    sel["selected_from"] = {u: records[n]["val"].get(metric) for u, n in candidates.items()}
    return sel

"""How the headline arm is chosen on inner validation: the best candidate, or the one-standard-error rule.

The selected arm (``synthetic:selected``) picks, per fold, one of the baseline and the synthetic uses by
their inner-validation metric. With a validation split of a few dozen images that choice is noisy: a
synthetic use can win by a margin far inside the metric's sampling error, and ties are common near the
ceiling. Two rules:

- ``best``: the candidate with the highest validation metric; ties go to the lower validation loss, then
  to the earlier candidate (the rule of every run committed before 2026-12-07);
- ``one-se``: the one-standard-error rule (Breiman et al. 1984; Hastie, Tibshirani & Friedman, *The
  Elements of Statistical Learning*, 2nd ed., section 7.10): the simplest candidate -- the baseline --
  is kept unless the best candidate beats it by more than one standard error (the larger of the two
  candidates' errors: at a validation AUC of 1.0 the error is 0, and a one-pair margin over a baseline at
  0.99 is no evidence). A synthetic use must earn its place by more than validation noise. It needs the
  baseline among the candidates (0 in ``ratios``).

Standard errors: AUC by Hanley & McNeil (1982) from the AUC and the class counts (per scored class,
averaged, skipping classes absent from validation: the upper bound for perfectly correlated one-vs-rest
AUCs); balanced accuracy, binary, from sensitivity and specificity; multi-class, the binomial error at
the mean recall for each class present (the per-class arg-max recalls are not saved). An error that
cannot be computed keeps the baseline.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from medgan.benchmark.arms import ratio_of_use

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
    """The classes an arm's validation scores were computed for (``auc/<c>`` keys)."""
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
        errors = [e for e in errors if np.isfinite(e)]
        return float(np.mean(errors)) if errors else float("nan")
    if len(classes) == 1:
        c = classes[0]
        if not 0 < counts[c] < total:
            return float("nan")
        sens, spec = val[f"sensitivity/{c}"], val[f"specificity/{c}"]
        return 0.5 * math.sqrt(sens * (1 - sens) / counts[c] + spec * (1 - spec) / (total - counts[c]))
    present, mean = [n for n in counts if n > 0], val["balanced_accuracy"]
    return math.sqrt(sum(mean * (1 - mean) / n for n in present)) / len(present) if present else float("nan")


def select_candidate(candidates: dict[str, str], arms: dict[str, dict[str, Any]], metric: str, rule: str = "best",
                     class_counts: Sequence[int] | None = None) -> str:
    """The candidate (``{use: arm name}``) chosen on inner validation by ``rule`` (see the module doc).

    ``best``: highest validation ``metric``; ties -> lower validation loss -> earlier candidate.
    ``one-se``: the ``best`` choice unless it beats the baseline candidate by no more than one standard
    error (the larger of the two candidates'; ``class_counts``: the validation split's images per class).
    Raises ValueError for an unknown rule, or for ``one-se`` without a baseline candidate or counts.
    """
    if rule not in SELECTION_RULES:
        raise ValueError(f"unknown selection rule {rule!r}; use one of {SELECTION_RULES}")
    order = {c: i for i, c in enumerate(candidates)}

    def value(c: str) -> float:
        v = arms[candidates[c]]["val"].get(metric, float("nan"))
        return v if np.isfinite(v) else -np.inf

    best = min(candidates, key=lambda c: (-value(c), arms[candidates[c]]["val_loss"], order[c]))
    if rule == "best" or best == SIMPLEST:
        return best
    if SIMPLEST not in candidates or class_counts is None:
        raise ValueError("the one-se rule needs the baseline among the candidates and the validation class counts")
    errors = [validation_standard_error(arms[candidates[c]]["val"], metric, class_counts) for c in (best, SIMPLEST)]
    se = max(errors) if all(np.isfinite(errors)) else float("nan")
    return best if np.isfinite(se) and value(best) - value(SIMPLEST) > se else SIMPLEST


def selected_record(candidates: dict[str, str], records: dict[str, dict[str, Any]], metric: str,
                    rule: str = "best", class_counts: Sequence[int] | None = None) -> dict[str, Any]:
    """The record of the candidate chosen on inner validation (:func:`select_candidate`), with what it was
    chosen from; ``synthetic_ratio`` is the chosen mix ratio (0 for the baseline, None for balance/pretrain)."""
    chosen = select_candidate(candidates, records, metric, rule, class_counts)
    sel = dict(records[candidates[chosen]])
    sel["synthetic_ratio"] = ratio_of_use(chosen)
    sel["selected_use"] = chosen
    sel["selected_from"] = {u: records[n]["val"].get(metric) for u, n in candidates.items()}
    return sel

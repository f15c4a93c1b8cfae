"""Statistics across folds x repeats: means with 95 % CIs and paired comparisons against the baseline.

- :func:`mean_ci`: mean and t-interval of per-fold values (a constant gives a zero-width interval).
- :func:`corrected_ttest`: Nadeau & Bengio's corrected resampled t-test for repeated K-fold, whose
  variance term accounts for overlapping training sets (a plain t-test across folds is too liberal).
- :func:`wilcoxon_p`: Wilcoxon signed-rank test on per-fold paired differences.
- :func:`detectable_difference`: the smallest true difference the design detects with 80 % power at a
  two-sided 5 % level, from the corrected t-test's standard error (or the bootstrap's), printed next
  to every "no gain".
- :func:`holm`: Holm's step-down adjustment of a family of p-values (the headline comparisons).
- :func:`paired_cluster_bootstrap`: resample *patients* (within class, within each test fold; the same
  draw for both arms) and recompute the fold-averaged metric difference -> 95 % percentile CI and a
  two-sided bootstrap p-value. This is the primary comparison reported in ``results.json``.
All functions are pure; randomness comes from an explicit ``numpy.random.Generator`` seed.
"""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
from scipy import stats as sps


def _finite(values: Sequence[float]) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    return arr[np.isfinite(arr)]


def mean_ci(values: Sequence[float], confidence: float = 0.95) -> dict[str, object]:
    """``{"mean", "ci95": [lo, hi], "n"}`` of the finite values (Student-t interval).

    One value or a constant gives ``lo == hi == mean``; no finite value gives NaNs.
    """
    v = _finite(values)
    if len(v) == 0:
        return {"mean": float("nan"), "ci95": [float("nan"), float("nan")], "n": 0}
    m = float(v.mean())
    if len(v) == 1 or np.allclose(v, v[0]):
        return {"mean": m, "ci95": [m, m], "n": int(len(v))}
    half = float(sps.t.ppf(0.5 + confidence / 2, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v)))
    return {"mean": m, "ci95": [m - half, m + half], "n": int(len(v))}


def corrected_ttest(diffs: Sequence[float], test_train_ratio: float, confidence: float = 0.95) -> dict[str, object]:
    """Nadeau-Bengio corrected resampled t-test of paired per-fold differences.

    Args:
        diffs: arm minus baseline, one value per (repeat, fold).
        test_train_ratio: n_test / n_train of one fold (0.25 for 5-fold).

    Returns ``{"mean", "ci95", "p_value"}``; a constant non-zero difference gives p = 0, all zeros p = 1.
    """
    d = _finite(diffs)
    n = len(d)
    if n == 0:
        return {"mean": float("nan"), "ci95": [float("nan")] * 2, "p_value": float("nan")}
    m = float(d.mean())
    var = float(d.var(ddof=1)) if n > 1 else 0.0
    se = np.sqrt((1.0 / n + test_train_ratio) * var)
    if se == 0.0:
        return {"mean": m, "ci95": [m, m], "p_value": 1.0 if m == 0.0 else 0.0}
    t = m / se
    p = float(2 * sps.t.sf(abs(t), n - 1))
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * se)
    return {"mean": m, "ci95": [m - half, m + half], "p_value": p}


def wilcoxon_p(diffs: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences (1.0 when all are zero)."""
    d = _finite(diffs)
    if len(d) == 0:
        return float("nan")
    if np.all(d == 0):
        return 1.0
    try:
        return float(sps.wilcoxon(d, zero_method="zsplit").pvalue)
    except ValueError:
        return float("nan")


def stratified_cluster_resample(labels: np.ndarray, patients: Sequence[str], rng: np.random.Generator) -> np.ndarray:
    """Indices of a bootstrap sample that draws whole patients with replacement, within each class.

    A patient's class is its most frequent label, so every class present stays present.
    """
    return ClusterResampler(labels, patients).draw(rng)


class ClusterResampler:
    """:func:`stratified_cluster_resample` with the patient grouping computed once (same draws)."""

    def __init__(self, labels: np.ndarray, patients: Sequence[str]) -> None:
        labels = np.asarray(labels)
        uniq, inverse = np.unique(np.asarray(patients), return_inverse=True)
        self.members = [np.flatnonzero(inverse == k) for k in range(len(uniq))]
        cls = np.array([np.bincount(labels[m]).argmax() for m in self.members])
        self.pools = [np.flatnonzero(cls == c) for c in np.unique(cls)]

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        """One bootstrap sample's indices."""
        picked = [self.members[k] for pool in self.pools for k in rng.choice(pool, size=len(pool), replace=True)]
        return np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)


def paired_cluster_bootstrap(
    folds: Sequence[tuple[np.ndarray, Sequence[str]]],
    score: Callable[[str, int, np.ndarray], dict[str, float]],
    arms: Sequence[str],
    baseline: str,
    metrics: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> dict[str, dict[str, dict[str, object]]]:
    """Paired patient-cluster bootstrap of (arm - baseline) for fold-averaged metrics.

    Args:
        folds: per test fold, its ``(labels, patients)``.
        score: ``score(arm, fold_index, indices) -> {metric: value}`` for that arm's predictions on
            the given test-fold indices (thresholds fixed beforehand on validation).
        arms: arms to compare (the baseline itself is skipped).
        baseline: the reference arm.
        metrics: metric names to compare.
        n_boot: bootstrap replicates; seed: RNG seed.

    Returns ``{arm: {metric: {"mean", "ci95", "p_value"}}}``: ``mean`` is the observed fold-averaged
    difference, ``ci95`` the percentile interval, ``p_value`` the two-sided bootstrap p-value
    (``2 * min(P(d <= 0), P(d >= 0))``, at least ``1 / (n_boot + 1)``).
    """
    rng = np.random.default_rng(seed)
    others = [a for a in arms if a != baseline]
    full = [np.arange(len(lab)) for lab, _ in folds]

    def fold_avg_diffs(index_sets: list[np.ndarray]) -> np.ndarray:
        out = np.full((len(others), len(metrics)), np.nan)
        base = np.array([[score(baseline, f, ix).get(m, np.nan) for m in metrics] for f, ix in enumerate(index_sets)])
        for a, arm in enumerate(others):
            vals = np.array([[score(arm, f, ix).get(m, np.nan) for m in metrics] for f, ix in enumerate(index_sets)])
            with np.errstate(invalid="ignore"):
                d = vals - base
            ok = np.isfinite(d)
            out[a] = np.where(ok.any(0), np.nansum(np.where(ok, d, 0), 0) / np.maximum(ok.sum(0), 1), np.nan)
        return out

    observed = fold_avg_diffs(full)
    boots = np.empty((n_boot, len(others), len(metrics)))
    resamplers = [ClusterResampler(lab, pats) for lab, pats in folds]
    for b in range(n_boot):
        sets = [r.draw(rng) for r in resamplers]
        boots[b] = fold_avg_diffs(sets)
    lo_q, hi_q = 50 * (1 - confidence), 100 - 50 * (1 - confidence)
    result: dict[str, dict[str, dict[str, object]]] = {}
    for a, arm in enumerate(others):
        result[arm] = {}
        for k, m in enumerate(metrics):
            col = boots[:, a, k]
            col = col[np.isfinite(col)]
            if len(col) == 0:
                result[arm][m] = {"mean": float(observed[a, k]), "ci95": [float("nan")] * 2, "p_value": float("nan")}
                continue
            lo, hi = np.percentile(col, [lo_q, hi_q])
            p = 2 * min(np.mean(col <= 0), np.mean(col >= 0))
            p = float(min(1.0, max(p, 1.0 / (len(col) + 1))))
            result[arm][m] = {"mean": float(observed[a, k]), "ci95": [float(lo), float(hi)], "p_value": p,
                              "se": float(col.std(ddof=1)) if len(col) > 1 else 0.0}
    return result


def detectable_difference(diffs: Sequence[float], test_train_ratio: float, bootstrap_se: float | None = None,
                          alpha: float = 0.05, power: float = 0.8) -> float:
    """Minimum detectable difference ``(t_{1-alpha/2} + t_{power}) * se`` of paired per-fold differences.

    ``se`` is the corrected resampled t-test's (Nadeau-Bengio) with n - 1 degrees of freedom; with fewer
    than two folds (or no spread across folds) it is ``bootstrap_se`` with normal quantiles (NaN when neither exists).
    """
    d = _finite(diffs)
    if len(d) >= 2 and d.var(ddof=1) > 0:  # identical fold differences say nothing of the noise: bootstrap
        se = float(np.sqrt((1.0 / len(d) + test_train_ratio) * d.var(ddof=1)))
        return float((sps.t.ppf(1 - alpha / 2, len(d) - 1) + sps.t.ppf(power, len(d) - 1)) * se)
    if bootstrap_se is None or not np.isfinite(bootstrap_se):
        return float("nan")
    return float((sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(power)) * bootstrap_se)


def holm(p_values: dict[str, float]) -> dict[str, float]:
    """Holm-Bonferroni adjusted p-values of a family (NaN entries stay NaN and do not count)."""
    items = sorted(((p, k) for k, p in p_values.items() if p is not None and np.isfinite(p)))
    m, running, out = len(items), 0.0, {k: float("nan") for k in p_values}
    for i, (p, k) in enumerate(items):
        running = max(running, min(1.0, (m - i) * p))
        out[k] = running
    return out

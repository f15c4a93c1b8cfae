"""Compare two benchmark runs arm by arm on the same test images (e.g. with and without an option).

Two runs made with the same data, seed, folds and repeats have the same outer splits, so an arm of run
B can be compared with the same arm of run A image by image, the way every arm is compared with the
baseline inside one run: a paired patient-cluster bootstrap of the fold-averaged difference, the
Nadeau-Bengio corrected t-test across folds and a Wilcoxon p-value. Everything is computed from the
per-fold predictions saved in ``DIR/folds``; nothing is retrained.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from medgan.benchmark.metrics import METRICS, WeightedScorer
from medgan.benchmark.stats import corrected_ttest, paired_cluster_bootstrap, wilcoxon_p
from medgan.errors import DataError


def load_folds(run_dir: Path) -> tuple[dict[tuple[int, int], dict[str, Any]], dict[str, Any]]:
    """The finished folds of a benchmark folder by (repeat, fold), and its ``results.json``."""
    run_dir = Path(run_dir)
    try:
        results = json.loads((run_dir / "results.json").read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{run_dir} holds no readable results.json ({exc})",
                        "pass the --out folder of a finished medgan benchmark") from exc
    folds = {}
    for path in sorted((run_dir / "folds").glob("r*_f*.json")):
        rec = json.loads(path.read_text())
        folds[(rec["repeat"], rec["fold"])] = rec
    if not folds:
        raise DataError(f"{run_dir}/folds holds no finished fold", "pass the --out folder of a finished medgan benchmark")
    return folds, results


def compare_runs(dir_a: Path, dir_b: Path, n_boot: int = 1000, seed: int = 0) -> dict[str, Any]:
    """Arm-by-arm differences B - A on the folds both runs finished with identical test images.

    Returns ``{"folds": n, "arms": {arm: {metric: {"mean", "ci95", "p_value", "corrected_t",
    "wilcoxon_p"}}}}`` for every arm present in both runs. Raises :class:`DataError` when the runs do
    not share data, classes or test folds (then there is nothing to pair).
    """
    folds_a, res_a = load_folds(dir_a)
    folds_b, res_b = load_folds(dir_b)
    if res_a["data"]["fingerprint"] != res_b["data"]["fingerprint"]:
        raise DataError(f"{dir_a} and {dir_b} were run on different data", "compare runs of the same data spec")
    keys = sorted(set(folds_a) & set(folds_b))
    differ = [k for k in keys if folds_a[k]["indices"]["test"] != folds_b[k]["indices"]["test"]]
    if differ or not keys:
        raise DataError(f"{dir_a} and {dir_b} share no test folds (different seed, folds or repeats?)",
                        "compare runs made with the same seed, --folds and --repeats")
    classes = res_a["data"]["classes"]
    positive = classes.index(res_a["data"]["positive_class"]) if res_a["data"].get("positive_class") else None
    arms = [a for a in folds_a[keys[0]]["arms"] if all(a in folds_a[k]["arms"] and a in folds_b[k]["arms"] for k in keys)]
    labels = [np.asarray(folds_a[k]["test_labels"]) for k in keys]
    scorers = {}
    for tag, folds in (("A", folds_a), ("B", folds_b)):
        for a in arms:
            scorers[f"{tag}:{a}"] = [WeightedScorer(np.asarray(folds[k]["arms"][a]["test_probs"]), labels[i],
                                                    folds[k]["arms"][a]["thresholds"], positive)
                                     for i, k in enumerate(keys)]

    def score(name: str, f: int, idx: np.ndarray) -> dict[str, float]:
        return scorers[name][f].score(np.bincount(idx, minlength=len(labels[f])))

    pairs = [(labels[i], folds_a[k]["test_patients"]) for i, k in enumerate(keys)]
    n_test = np.mean([folds_a[k]["counts"]["test"] for k in keys])
    n_train = np.mean([folds_a[k]["counts"]["inner_train"] + folds_a[k]["counts"]["val"] for k in keys])
    out: dict[str, Any] = {}
    for a in arms:
        boot = paired_cluster_bootstrap(pairs, score, [f"A:{a}", f"B:{a}"], f"A:{a}", list(METRICS), n_boot, seed)
        out[a] = {}
        for m in METRICS:
            d = [folds_b[k]["arms"][a]["test"][m] - folds_a[k]["arms"][a]["test"][m] for k in keys]
            out[a][m] = {**boot[f"B:{a}"][m], "corrected_t": corrected_ttest(d, n_test / max(n_train, 1)),
                         "wilcoxon_p": wilcoxon_p(d)}
    return {"a": str(dir_a), "b": str(dir_b), "folds": len(keys), "arms": out}


def comparison_markdown(result: dict[str, Any]) -> str:
    """A table of B - A per arm and metric: bootstrap mean [95 % CI] and corrected t-test interval, in points."""
    def pts(d: dict[str, Any]) -> str:
        lo, hi = d["ci95"]
        return f"{100 * d['mean']:+.1f} [{100 * lo:+.1f}, {100 * hi:+.1f}]"

    lines = [f"B = `{result['b']}` minus A = `{result['a']}`, {result['folds']} paired test folds; "
             "bootstrap mean [95 % CI] / corrected t-test [95 % CI], points.", "",
             "| arm | " + " | ".join(METRICS) + " |", "|---|" + "---|" * len(METRICS)]
    for arm, ms in result["arms"].items():
        cells = [f"{pts(ms[m])} / [{100 * ms[m]['corrected_t']['ci95'][0]:+.1f}, "
                 f"{100 * ms[m]['corrected_t']['ci95'][1]:+.1f}]" for m in METRICS]
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

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

from medgan.benchmark.aggregate import arm_scorers, bootstrap_score, paired_difference, positive_index, test_train_ratio
from medgan.benchmark.arms import parse_arm
from medgan.benchmark.metrics import METRICS
from medgan.benchmark.stats import paired_cluster_bootstrap
from medgan.errors import DataError


def read_results(run_dir: Path) -> dict[str, Any]:
    """The ``results.json`` of a finished benchmark folder (DataError when it is missing or unreadable)."""
    try:
        return json.loads((Path(run_dir) / "results.json").read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{run_dir} holds no readable results.json ({exc})",
                        "pass the --out folder of a finished medgan benchmark") from exc


def load_folds(run_dir: Path) -> tuple[dict[tuple[int, int], dict[str, Any]], dict[str, Any]]:
    """The finished folds of a benchmark folder by (repeat, fold), and its ``results.json``."""
    run_dir = Path(run_dir)
    results = read_results(run_dir)
    folds = {}
    for path in sorted((run_dir / "folds").glob("r*_f*.json")):
        try:
            rec = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise DataError(f"fold record {path} is unreadable ({exc})",
                            "rerun that benchmark command: it recomputes the fold and rewrites the record") from exc
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
    positive = positive_index(res_a)
    arms = [a for a in folds_a[keys[0]]["arms"] if all(a in folds_a[k]["arms"] and a in folds_b[k]["arms"] for k in keys)]
    kinds = {a: parse_arm(a).kind for a in arms}  # a foreign arm name is a clear DataError
    recs_a, recs_b = [folds_a[k] for k in keys], [folds_b[k] for k in keys]
    scorers = {f"{tag}:{a}": s for tag, recs in (("A", recs_a), ("B", recs_b))
               for a, s in arm_scorers(recs, arms, positive).items()}
    score = bootstrap_score(scorers)
    pairs = [(np.asarray(r["test_labels"]), r["test_patients"]) for r in recs_a]
    ratio = test_train_ratio(recs_a)
    out: dict[str, Any] = {}
    for a in arms:
        boot = paired_cluster_bootstrap(pairs, score, [f"A:{a}", f"B:{a}"], f"A:{a}", list(METRICS), n_boot, seed)
        out[a] = {m: paired_difference(boot[f"B:{a}"][m], [rb["arms"][a]["test"][m] - ra["arms"][a]["test"][m]
                                                          for ra, rb in zip(recs_a, recs_b)], ratio)
                  for m in METRICS}
    return {"a": str(dir_a), "b": str(dir_b), "folds": len(keys), "arms": out, "kinds": kinds}


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

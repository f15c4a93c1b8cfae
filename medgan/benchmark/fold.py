"""One outer fold of the benchmark: every arm trained and scored on the same split.

Inside the fold's training part a patient-grouped inner validation split is carved off. The GAN(s)
train on the remaining *inner training* images only (never validation, never test; checked by
fingerprint and by index). Every arm then trains the same classifier with the same seed and budget:

- ``baseline``: real inner-training images + classic augmentation;
- ``<model> ratio <r>``: the same plus ``r`` x (real count) synthetic images per class;
- ``<model> synthetic only``: synthetic images only (train on synthetic, test on real);
- ``<model> selected``: the ratio (0 = baseline included) with the best inner-validation score --
  chosen without looking at the test fold; it reuses that ratio's trained model.

Thresholds are chosen on the inner validation split and applied unchanged to the test fold.
With ``synthetic_filter="baseline"`` the synthetic pool keeps only the images the baseline classifier
calls as their own class (:func:`filter_pool`); what was drawn and kept is recorded per class.
"""
from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from medgan.benchmark.classifier import predict_proba, train_classifier
from medgan.benchmark.config import FILTER_POOL_FACTOR, BenchmarkConfig
from medgan.benchmark.leakage import cross_split_duplicates
from medgan.benchmark.metrics import called_labels, choose_thresholds, score_predictions
from medgan.benchmark.plan import inner_split
from medgan.benchmark.synthetic import SyntheticPool, gan_data_fingerprint
from medgan.data.splits import check_no_straddle
from medgan.errors import DataError
from medgan.evaluation import evaluate_quality, quality_summary_markdown

GanFactory = Callable[[Any, int, Path], Any]


def arm_name(model: str | None, kind: str, ratio: float | None = None) -> str:
    """Canonical arm names: ``baseline``, ``cgan ratio 0.5``, ``cgan synthetic only``, ``cgan selected``."""
    if model is None:
        return "baseline"
    return f"{model} ratio {ratio:g}" if kind == "ratio" else f"{model} {kind}"


def run_fold(
    data: Any,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    patients: list[str],
    config: BenchmarkConfig,
    positive: int | None,
    fold_seed: int,
    gan_factory: Callable[[str], GanFactory],
    gan_dir: Path,
    device: torch.device,
    tick: Callable[[str], None] = lambda s: None,
    quality_dir: Path | None = None,
) -> dict[str, Any]:
    """Train and score every arm of one fold; returns a JSON-ready record (see module docstring).

    Args:
        data: the whole :class:`~medgan.data.types.PreparedData`.
        train_idx, test_idx: the outer split (global indices).
        patients: grouping ids (after near-duplicate merging).
        config: the run's options; positive: positive class index for binary tasks (else None).
        fold_seed: seed of this (repeat, fold): inner split, GAN, classifier (same for every arm).
        gan_factory: ``gan_factory(model)(train_data, seed, out_dir) -> sampler``.
        gan_dir: folder for this fold's GAN runs; device: torch device.
        tick: progress callback, called after each arm with its name.
        quality_dir: if given, each GAN's images are scored with :func:`medgan.evaluation.evaluate_quality`
            (inner training images as reference, the test fold as never-seen real images) under
            ``quality_dir/<model>`` and the summary table is kept in the record.
    """
    t_fold = time.perf_counter()
    labels = data.labels
    n_classes = len(data.class_names)
    inner_idx, val_idx = inner_split(labels.numpy(), train_idx, patients, config.val_fraction, fold_seed,
                                     data.class_names)  # the split check_plan checked before the run
    for a, b in ((inner_idx, val_idx), (inner_idx, test_idx), (val_idx, test_idx)):
        check_no_straddle(patients, a, b)
    inner = data.subset(inner_idx)
    val_x, val_y = data.images[torch.as_tensor(val_idx)], labels[torch.as_tensor(val_idx)]
    test_x, test_y = data.images[torch.as_tensor(test_idx)], labels[torch.as_tensor(test_idx)]
    counts = np.bincount(inner.labels.numpy(), minlength=n_classes)
    clf_seed = fold_seed + 17
    arms: dict[str, dict[str, Any]] = {}
    timing: dict[str, float] = {"gan_seconds": 0.0, "classifier_seconds": 0.0, "synthesis_seconds": 0.0,
                                "gans_reused": 0}

    def train_arm(name: str, xy: tuple[torch.Tensor, torch.Tensor], ratio: float | None) -> list[torch.nn.Module]:
        val_p, test_p, infos, models = [], [], [], []
        for j in range(config.classifier.ensemble):  # the same seeds in every arm
            model, info = train_classifier(xy[0], xy[1], len(inner), val_x, val_y, n_classes, config.classifier,
                                           clf_seed + 7919 * j, device)
            models.append(model)
            val_p.append(predict_proba(model, val_x, device))
            test_p.append(predict_proba(model, test_x, device))
            infos.append(info)
        val_p, test_p = np.mean(val_p, 0), np.mean(test_p, 0)
        info = dict(infos[0], seconds=sum(i["seconds"] for i in infos),
                    best_val_loss=float(np.mean([i["best_val_loss"] for i in infos])))
        thr = choose_thresholds(val_p, val_y.numpy(), positive, config.threshold, config.target_sensitivity)
        arms[name] = {
            "synthetic_ratio": ratio,
            "thresholds": {str(k): v for k, v in thr.items()},
            "val": score_predictions(val_p, val_y.numpy(), thr, positive),
            "test": score_predictions(test_p, test_y.numpy(), thr, positive),
            "val_loss": info["best_val_loss"],
            "test_probs": test_p.round(6).tolist(),
            "train": {k: info[k] for k in ("steps", "evaluations", "best_step", "seconds")},
            "n_train": int(len(xy[1])),
        }
        timing["classifier_seconds"] += info["seconds"]
        tick(name)
        return models

    real = (inner.images, inner.labels)
    baseline_models = train_arm("baseline", real, 0.0)
    filters: dict[str, Any] = {}
    proofs: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    samples: dict[str, Any] = {}
    for model in config.models:
        t0 = time.perf_counter()
        sampler = gan_factory(model)(inner, fold_seed, gan_dir / model)
        timing["gan_seconds"] += time.perf_counter() - t0
        timing["gans_reused"] += int(getattr(sampler, "reused", False))
        seen = gan_data_fingerprint(sampler, gan_dir / model)
        proofs[model] = {
            "gan_train_fingerprint": inner.fingerprint(),
            "gan_reported_fingerprint": seen,
            "test_fingerprint": data.subset(test_idx).fingerprint(),
            "test_indices_in_gan_train": int(len(np.intersect1d(inner_idx, test_idx))),
            "val_indices_in_gan_train": int(len(np.intersect1d(inner_idx, val_idx))),
            "test_near_copies_in_gan_train": cross_split_duplicates(data.images, inner_idx, test_idx, config.dedup_threshold),
        }
        if seen is not None and seen != inner.fingerprint():
            raise DataError(f"the {model} GAN of this fold reports training data {seen}, not its fold's "
                            f"training images {inner.fingerprint()}", "delete the fold's gan/ folder and rerun")
        t0 = time.perf_counter()
        need = max(list(config.synthetic_ratios) + ([config.tstr_ratio] if config.tstr else []) + [0.0])
        needed = [int(math.ceil(need * c)) for c in counts]
        filtering = config.synthetic_filter == "baseline"
        pool = SyntheticPool.generate(sampler, [n * (FILTER_POOL_FACTOR if filtering else 1) for n in needed],
                                      seed=fold_seed + 99)
        if filtering:
            pool, filters[model] = filter_pool(pool, baseline_models, arms["baseline"]["thresholds"], positive, device)
            filters[model]["needed"] = needed
        timing["synthesis_seconds"] += time.perf_counter() - t0

        def wanted(r: float) -> list[int]:  # a filtered pool may hold fewer than asked: take what passed
            return [min(int(math.ceil(r * c)), len(im)) for c, im in zip(counts, pool.images)]
        samples[model] = pool.preview(8)
        if quality_dir is not None:
            quality[model] = _quality(inner, data.subset(test_idx), pool.take(wanted(1.0)),
                                      quality_dir / model, fold_seed, fast=config.preset == "quick")
        candidates = {0.0: "baseline"} if 0.0 in [float(r) for r in config.ratios] else {}
        for r in config.synthetic_ratios:
            name = arm_name(model, "ratio", r)
            train_arm(name, pool.mixed_with(real, wanted(r)), r)
            candidates[r] = name
        if config.tstr:
            train_arm(arm_name(model, "synthetic only"), pool.take(wanted(config.tstr_ratio)), config.tstr_ratio)
        chosen = select_ratio(candidates, arms, config.selection_metric)
        sel = dict(arms[candidates[chosen]])
        sel["synthetic_ratio"] = chosen
        sel["selected_from"] = {f"{r:g}": arms[n]["val"].get(config.selection_metric) for r, n in candidates.items()}
        arms[arm_name(model, "selected")] = sel
    timing["fold_seconds"] = time.perf_counter() - t_fold
    return {
        "device": device_label(device),
        "indices": {"inner_train": inner_idx.tolist(), "val": val_idx.tolist(), "test": test_idx.tolist()},
        "test_labels": test_y.tolist(),
        "test_patients": [patients[i] for i in test_idx],
        "counts": {"inner_train": len(inner_idx), "val": len(val_idx), "test": len(test_idx)},
        "arms": arms,
        "gan_proof": proofs,
        "timing": timing,
        "samples": samples,
        "quality": quality,
        "synthetic_filter": filters,
    }


def filter_pool(pool: SyntheticPool, models: list[torch.nn.Module], thresholds: dict, positive: int | None,
                device: torch.device) -> tuple[SyntheticPool, dict[str, list[int]]]:
    """Keep the synthetic images that ``models`` (averaged) call, at ``thresholds``, as their own class.

    Returns the filtered pool (order kept, so smaller ratios still take a prefix of larger ones) and
    ``{"drawn": [...], "kept": [...]}`` per class.
    """
    keep = []
    for c, x in enumerate(pool.images):
        if len(x) == 0:
            keep.append(torch.zeros(0, dtype=torch.bool))
            continue
        probs = np.mean([predict_proba(m, x, device) for m in models], axis=0)
        keep.append(torch.as_tensor(called_labels(probs, thresholds, positive) == c))
    return (SyntheticPool([x[k] for x, k in zip(pool.images, keep)]),
            {"drawn": [len(x) for x in pool.images], "kept": [int(k.sum()) for k in keep]})


def device_label(device: torch.device) -> str:
    """Where a fold ran, for the report: ``"cuda: NVIDIA H200"`` or ``"cpu: 2 thread(s)"``."""
    if device.type == "cuda":
        return f"cuda: {torch.cuda.get_device_name(device)}"
    return f"{device.type}: {torch.get_num_threads()} thread(s)"


def _quality(real_train: Any, real_unseen: Any, synthetic: tuple[torch.Tensor, torch.Tensor], out_dir: Path,
             seed: int, fast: bool) -> dict[str, Any]:
    """Quality of one GAN's images (markdown summary + headline numbers); errors become a note."""
    try:
        res = evaluate_quality(real_train, real_unseen, synthetic[0], synthetic[1], out_dir=out_dir, seed=seed,
                               fast=fast, umap=False)
    except Exception as exc:  # noqa: BLE001 -- a quality failure must not lose a finished fold
        return {"error": f"quality evaluation failed: {type(exc).__name__}: {exc}"}
    return {"markdown": quality_summary_markdown(res), "dir": str(out_dir)}


def select_ratio(candidates: dict[float, str], arms: dict[str, dict[str, Any]], metric: str) -> float:
    """The candidate ratio with the best inner-validation ``metric``; ties -> lower val loss -> smaller ratio."""
    def key(r: float) -> tuple[float, float, float]:
        v = arms[candidates[r]]["val"].get(metric, float("nan"))
        v = v if np.isfinite(v) else -np.inf
        return (-v, arms[candidates[r]]["val_loss"], r)

    return min(candidates, key=key)

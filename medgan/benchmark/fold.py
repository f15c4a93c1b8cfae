"""One outer fold of the benchmark: every arm trained and scored on the same split.

Inside the fold's training part a patient-grouped inner validation split is carved off. The GAN(s)
train on the remaining *inner training* images only (never validation, never test; checked by
fingerprint and by index). Every arm then trains the same classifier with the same seed and budget:

- ``baseline`` (kind ``baseline``): real inner-training images + classic augmentation;
- ``<model> ratio <r>`` (``synthetic:mix``): the same plus ``r`` x (real count) synthetic images per class;
- ``<model> synthetic only`` (``synthetic:only``): synthetic images only (train on synthetic, test on real);
- ``<model> selected`` (``synthetic:selected``): the ratio (0 = baseline included) with the best
  inner-validation score -- chosen without looking at the test fold; it reuses that ratio's trained model.

Arms are :class:`medgan.benchmark.arms.Arm` values; their names come from one function. The steps:
:func:`split_fold` (inner / validation / test), :func:`draw_pool` (GAN + synthetic pool, per model),
:func:`train_synthetic_arms` (every mix through :func:`medgan.transforms.mix_real_and_synthetic`) and
:func:`selected_record` (the ratio chosen on inner validation).

Thresholds are chosen on the inner validation split and applied unchanged to the test fold.
With ``synthetic_filter="baseline"`` the synthetic pool keeps only the images the baseline classifier
calls as their own class (:func:`filter_pool`); what was drawn and kept is recorded per class.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from medgan.benchmark.arms import BASELINE, MIX, ONLY, SELECTED, Arm
from medgan.benchmark.classifier import predict_proba, train_classifier
from medgan.benchmark.config import FILTER_POOL_FACTOR, BenchmarkConfig
from medgan.benchmark.leakage import cross_split_duplicates
from medgan.benchmark.metrics import called_labels, choose_thresholds, score_predictions
from medgan.benchmark.plan import inner_split
from medgan.benchmark.synthetic import (
    SyntheticPool,
    dataset_tensors,
    gan_data_fingerprint,
    mix_with_real,
    pool_counts,
    synthetic_only,
)
from medgan.data.splits import check_no_straddle
from medgan.errors import DataError
from medgan.evaluation import evaluate_quality, quality_summary_markdown

GanFactory = Callable[[Any, int, Path], Any]


@dataclass
class FoldSplit:
    """One outer fold's parts: inner training (the GAN's and every arm's real images), validation, test."""

    inner: Any
    inner_idx: np.ndarray
    val_idx: np.ndarray
    test_idx: np.ndarray
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    counts: np.ndarray  # real inner-training images per class


def split_fold(data: Any, train_idx: np.ndarray, test_idx: np.ndarray, patients: list[str],
               config: BenchmarkConfig, fold_seed: int) -> FoldSplit:
    """Carve a patient-grouped inner validation split off the fold's training part (no patient straddles)."""
    labels = data.labels
    inner_idx, val_idx = inner_split(labels.numpy(), train_idx, patients, config.val_fraction, fold_seed,
                                     data.class_names)  # the split check_plan checked before the run
    for a, b in ((inner_idx, val_idx), (inner_idx, test_idx), (val_idx, test_idx)):
        check_no_straddle(patients, a, b)
    inner = data.subset(inner_idx)
    val, test = torch.as_tensor(val_idx), torch.as_tensor(test_idx)
    return FoldSplit(inner, inner_idx, val_idx, test_idx, data.images[val], labels[val], data.images[test],
                     labels[test], np.bincount(inner.labels.numpy(), minlength=len(data.class_names)))


class ArmTrainer:
    """Trains and scores arms on one fold: the same classifier seeds and budget for every arm.

    ``records[arm.name]`` holds each arm's JSON-ready record; ``seconds`` the classifier time.
    """

    def __init__(self, split: FoldSplit, config: BenchmarkConfig, positive: int | None, seed: int,
                 n_classes: int, device: torch.device, tick: Callable[[str], None]) -> None:
        self.split, self.config, self.positive, self.seed = split, config, positive, seed
        self.n_classes, self.device, self.tick = n_classes, device, tick
        self.records: dict[str, dict[str, Any]] = {}
        self.seconds = 0.0

    def train(self, arm: Arm, xy: tuple[torch.Tensor, torch.Tensor], ratio: float | None) -> list[torch.nn.Module]:
        """Train ``arm``'s classifier ensemble on ``xy``, record its scores; returns the trained models."""
        s, cfg = self.split, self.config
        val_p, test_p, infos, models = [], [], [], []
        for j in range(cfg.classifier.ensemble):  # the same seeds in every arm
            model, info = train_classifier(xy[0], xy[1], len(s.inner), s.val_x, s.val_y, self.n_classes,
                                           cfg.classifier, self.seed + 7919 * j, self.device)
            models.append(model)
            val_p.append(predict_proba(model, s.val_x, self.device))
            test_p.append(predict_proba(model, s.test_x, self.device))
            infos.append(info)
        val_p, test_p = np.mean(val_p, 0), np.mean(test_p, 0)
        info = dict(infos[0], seconds=sum(i["seconds"] for i in infos),
                    best_val_loss=float(np.mean([i["best_val_loss"] for i in infos])))
        thr = choose_thresholds(val_p, s.val_y.numpy(), self.positive, cfg.threshold, cfg.target_sensitivity)
        self.records[arm.name] = {
            "synthetic_ratio": ratio,
            "thresholds": {str(k): v for k, v in thr.items()},
            "val": score_predictions(val_p, s.val_y.numpy(), thr, self.positive),
            "test": score_predictions(test_p, s.test_y.numpy(), thr, self.positive),
            "val_loss": info["best_val_loss"],
            "test_probs": test_p.round(6).tolist(),
            "train": {k: info[k] for k in ("steps", "evaluations", "best_step", "seconds")},
            "n_train": int(len(xy[1])),
        }
        self.seconds += info["seconds"]
        self.tick(arm.name)
        return models


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
    split = split_fold(data, train_idx, test_idx, patients, config, fold_seed)
    trainer = ArmTrainer(split, config, positive, fold_seed + 17, len(data.class_names), device, tick)
    timing: dict[str, float] = {"gan_seconds": 0.0, "classifier_seconds": 0.0, "synthesis_seconds": 0.0,
                                "gans_reused": 0}
    baseline_models = trainer.train(Arm(None, BASELINE), (split.inner.images, split.inner.labels), 0.0)
    filters: dict[str, Any] = {}
    proofs: dict[str, Any] = {}
    quality: dict[str, Any] = {}
    samples: dict[str, Any] = {}
    for model in config.models:
        pool, proofs[model], filt = draw_pool(model, data, split, config, fold_seed, gan_factory, gan_dir, device,
                                              baseline_models, trainer.records["baseline"]["thresholds"],
                                              positive, timing)
        if filt is not None:
            filters[model] = filt
        samples[model] = pool.preview(8)
        if quality_dir is not None:
            reference = dataset_tensors(synthetic_only(pool, pool_counts(pool, split.counts, 1.0)))
            quality[model] = _quality(split.inner, data.subset(split.test_idx), reference,
                                      quality_dir / model, fold_seed, fast=config.preset == "quick")
        candidates = train_synthetic_arms(model, pool, split, config, trainer)
        trainer.records[Arm(model, SELECTED).name] = selected_record(candidates, trainer.records,
                                                                     config.selection_metric)
    timing["classifier_seconds"] = trainer.seconds
    timing["fold_seconds"] = time.perf_counter() - t_fold
    return {
        "device": device_label(device),
        "indices": {"inner_train": split.inner_idx.tolist(), "val": split.val_idx.tolist(),
                    "test": split.test_idx.tolist()},
        "test_labels": split.test_y.tolist(),
        "test_patients": [patients[i] for i in split.test_idx],
        "counts": {"inner_train": len(split.inner_idx), "val": len(split.val_idx), "test": len(split.test_idx)},
        "arms": trainer.records,
        "gan_proof": proofs,
        "timing": timing,
        "samples": samples,
        "quality": quality,
        "synthetic_filter": filters,
    }


def draw_pool(model: str, data: Any, split: FoldSplit, config: BenchmarkConfig, fold_seed: int,
              gan_factory: Callable[[str], GanFactory], gan_dir: Path, device: torch.device,
              baseline_models: list[torch.nn.Module], thresholds: dict, positive: int | None,
              timing: dict[str, float]) -> tuple[SyntheticPool, dict[str, Any], dict[str, Any] | None]:
    """Train (or reuse) ``model``'s GAN on the inner training images and draw the fold's synthetic pool.

    Returns ``(pool, isolation proof, filter record or None)``; adds GAN and synthesis time to ``timing``.
    """
    inner = split.inner
    t0 = time.perf_counter()
    sampler = gan_factory(model)(inner, fold_seed, gan_dir / model)
    timing["gan_seconds"] += time.perf_counter() - t0
    timing["gans_reused"] += int(getattr(sampler, "reused", False))
    seen = gan_data_fingerprint(sampler, gan_dir / model)
    proof = {
        "gan_train_fingerprint": inner.fingerprint(),
        "gan_reported_fingerprint": seen,
        "test_fingerprint": data.subset(split.test_idx).fingerprint(),
        "test_indices_in_gan_train": int(len(np.intersect1d(split.inner_idx, split.test_idx))),
        "val_indices_in_gan_train": int(len(np.intersect1d(split.inner_idx, split.val_idx))),
        "test_near_copies_in_gan_train": cross_split_duplicates(data.images, split.inner_idx, split.test_idx,
                                                                config.dedup_threshold),
    }
    if seen is not None and seen != inner.fingerprint():
        raise DataError(f"the {model} GAN of this fold reports training data {seen}, not its fold's "
                        f"training images {inner.fingerprint()}", "delete the fold's gan/ folder and rerun")
    t0 = time.perf_counter()
    need = max(list(config.synthetic_ratios) + ([config.tstr_ratio] if config.tstr else []) + [0.0])
    needed = [int(math.ceil(need * c)) for c in split.counts]
    filtering = config.synthetic_filter == "baseline"
    pool = SyntheticPool.generate(sampler, [n * (FILTER_POOL_FACTOR if filtering else 1) for n in needed],
                                  seed=fold_seed + 99)
    filt = None
    if filtering:
        pool, filt = filter_pool(pool, baseline_models, thresholds, positive, device)
        filt["needed"] = needed
    timing["synthesis_seconds"] += time.perf_counter() - t0
    return pool, proof, filt


def train_synthetic_arms(model: str, pool: SyntheticPool, split: FoldSplit, config: BenchmarkConfig,
                         trainer: ArmTrainer) -> dict[float, str]:
    """Train ``model``'s mix arms (and synthetic only); returns the selection candidates ``{ratio: arm name}``
    (ratio 0 = the baseline when 0 is among the configured ratios)."""
    real = (split.inner.images, split.inner.labels)
    candidates = {0.0: "baseline"} if 0.0 in [float(r) for r in config.ratios] else {}
    for r in config.synthetic_ratios:
        arm = Arm(model, MIX, r)
        trainer.train(arm, dataset_tensors(mix_with_real(pool, real, r)), r)
        candidates[r] = arm.name
    if config.tstr:
        counts = pool_counts(pool, split.counts, config.tstr_ratio)
        trainer.train(Arm(model, ONLY, config.tstr_ratio), dataset_tensors(synthetic_only(pool, counts)),
                      config.tstr_ratio)
    return candidates


def selected_record(candidates: dict[float, str], records: dict[str, dict[str, Any]], metric: str) -> dict[str, Any]:
    """The record of the candidate chosen on inner validation (:func:`select_ratio`), with what it was chosen from."""
    chosen = select_ratio(candidates, records, metric)
    sel = dict(records[candidates[chosen]])
    sel["synthetic_ratio"] = chosen
    sel["selected_from"] = {f"{r:g}": records[n]["val"].get(metric) for r, n in candidates.items()}
    return sel


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
    return (pool.with_images([x[k] for x, k in zip(pool.images, keep)]),
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

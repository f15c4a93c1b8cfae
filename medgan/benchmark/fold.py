"""One outer fold of the benchmark: every arm trained and scored on the same split.

Inside the fold's training part a patient-grouped inner validation split is carved off. The GAN(s)
train on the remaining *inner training* images only (never validation, never test; checked by
fingerprint and by index). The scenarios shrink the inner training before anything trains on it
(:mod:`medgan.benchmark.scenario`): the rare-class scenario keeps only a share of one class's patients,
and the learning curve repeats the whole fold at each real fraction -- the GAN of a fraction trains on
that fraction's patients only; validation and test stay whole. At each fraction every arm trains the
same classifier with the same seed and budget (kinds in :mod:`medgan.benchmark.arms`): the baseline,
the controls (duplicated real images, a class-weighted loss, strong augmentation + MixUp), and per GAN
model its synthetic uses (mix at every ratio, balance, pretrain-then-fine-tune, synthetic only), then
``selected``: the use with the best inner-validation score, chosen without looking at the test fold.
The best control is chosen on inner validation by the highest score (``best_control`` in the record);
the selected arm by ``selection_rule`` (:mod:`medgan.benchmark.selection`).

The steps: :func:`split_fold` / :func:`restrict_split`, :func:`train_controls`, :func:`draw_pool` (GAN
+ synthetic pool, filtered by ``synthetic_filter``), :func:`train_synthetic_arms` (every mix through
:func:`medgan.transforms.mix_real_and_synthetic`) and :func:`medgan.benchmark.selection.selected_record`.
Thresholds are chosen on the inner validation split and applied unchanged to the test fold.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from medgan.benchmark.arms import (
    BALANCE,
    BASELINE,
    CLASS_WEIGHT,
    DUPLICATE,
    MIX,
    ONLY,
    PRETRAIN,
    SELECTED,
    STRONG_AUG,
    Arm,
    control_arms,
    use_of_ratio,
)
from medgan.benchmark.classifier import Recipe, predict_proba, train_classifier
from medgan.benchmark.controls import StrongAugment, class_weights, duplicate_real, mixup, weighted_loss
from medgan.benchmark.curation import confidence_filter, proximity_filter
from medgan.benchmark.config import FILTER_POOL_FACTOR, BenchmarkConfig
from medgan.benchmark.leakage import cross_split_duplicates
from medgan.benchmark.metrics import called_labels, choose_thresholds, score_predictions
from medgan.benchmark.plan import inner_split
from medgan.benchmark.scenario import fraction_subset, rare_subset, scenario_seed
from medgan.benchmark.selection import select_candidate, selected_record
from medgan.benchmark.synthetic import (
    SyntheticPool,
    balance_with_real,
    dataset_tensors,
    gan_data_fingerprint,
    mix_with_real,
    pool_counts,
    synthetic_only,
)
from medgan.data.splits import check_no_straddle
from medgan.errors import DataError
from medgan.evaluation import evaluate_quality, quality_summary_markdown, quality_warnings

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

    @property
    def val_counts(self) -> list[int]:
        """Validation images per class (what the selection rule's standard error needs)."""
        return np.bincount(self.val_y.numpy(), minlength=len(self.counts)).tolist()


def split_fold(data: Any, train_idx: np.ndarray, test_idx: np.ndarray, patients: list[str],
               config: BenchmarkConfig, fold_seed: int) -> FoldSplit:
    """Carve a patient-grouped inner validation split off the fold's training part (no patient straddles)."""
    labels = data.labels
    inner_idx, val_idx = inner_split(labels.numpy(), train_idx, patients, config.val_fraction, fold_seed,
                                     data.class_names)  # the split check_plan checked before the run
    for a, b in ((inner_idx, val_idx), (inner_idx, test_idx), (val_idx, test_idx)):
        check_no_straddle(patients, a, b)
    val, test = torch.as_tensor(val_idx), torch.as_tensor(test_idx)
    split = FoldSplit(None, inner_idx, val_idx, test_idx, data.images[val], labels[val], data.images[test],
                      labels[test], np.zeros(0))
    return restrict_split(split, data, inner_idx)


def restrict_split(split: FoldSplit, data: Any, inner_idx: np.ndarray) -> FoldSplit:
    """``split`` with its inner training reduced to ``inner_idx`` (validation and test unchanged)."""
    inner_idx = np.asarray(inner_idx, dtype=np.int64)
    inner = data.subset(inner_idx)
    return replace(split, inner=inner, inner_idx=inner_idx,
                   counts=np.bincount(inner.labels.numpy(), minlength=len(data.class_names)))


class ArmTrainer:
    """Trains and scores the arms of one fold at one real fraction: the same classifier seeds and budget.

    ``records[arm.name]`` holds each arm's JSON-ready record (shared across fractions); ``seconds`` the
    classifier time.
    """

    def __init__(self, split: FoldSplit, config: BenchmarkConfig, positive: int | None, seed: int,
                 n_classes: int, device: torch.device, tick: Callable[[str], None],
                 records: dict[str, dict[str, Any]] | None = None, fraction: float = 1.0) -> None:
        self.split, self.config, self.positive, self.seed = split, config, positive, seed
        self.n_classes, self.device, self.tick, self.fraction = n_classes, device, tick, float(fraction)
        self.records: dict[str, dict[str, Any]] = {} if records is None else records
        self.seconds = 0.0

    def name(self, arm: Arm) -> str:
        """``arm``'s name at this trainer's real fraction."""
        return arm.at_fraction(self.fraction).name

    def train(self, arm: Arm, xy: tuple[torch.Tensor, torch.Tensor], ratio: float | None,
              recipe: Recipe | None = None, pretrain_xy: tuple[torch.Tensor, torch.Tensor] | None = None,
              ) -> list[torch.nn.Module]:
        """Train ``arm``'s classifier ensemble on ``xy`` (after pretraining on ``pretrain_xy`` if given),
        record its scores; returns the trained models."""
        s, cfg = self.split, self.config
        val_p, test_p, infos, models = [], [], [], []
        for j in range(cfg.classifier.ensemble):  # the same seeds in every arm
            seed, extra = self.seed + 7919 * j, 0.0
            if pretrain_xy is not None:
                first, info0 = train_classifier(pretrain_xy[0], pretrain_xy[1], len(s.inner), s.val_x, s.val_y,
                                                self.n_classes, cfg.classifier, seed, self.device)
                recipe, extra = Recipe(init_state=first.state_dict()), info0["seconds"]
            model, info = train_classifier(xy[0], xy[1], len(s.inner), s.val_x, s.val_y, self.n_classes,
                                           cfg.classifier, seed, self.device, recipe)
            info["seconds"] += extra
            models.append(model)
            val_p.append(predict_proba(model, s.val_x, self.device))
            test_p.append(predict_proba(model, s.test_x, self.device))
            infos.append(info)
        self._record(arm, xy, ratio, np.mean(val_p, 0), np.mean(test_p, 0), infos)
        return models

    def _record(self, arm: Arm, xy: tuple[torch.Tensor, torch.Tensor], ratio: float | None, val_p: np.ndarray,
                test_p: np.ndarray, infos: list[dict[str, Any]]) -> None:
        s, cfg = self.split, self.config
        info = dict(infos[0], seconds=sum(i["seconds"] for i in infos),
                    best_val_loss=float(np.mean([i["best_val_loss"] for i in infos])))
        thr = choose_thresholds(val_p, s.val_y.numpy(), self.positive, cfg.threshold, cfg.target_sensitivity)
        name = self.name(arm)
        self.records[name] = {
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
        self.tick(name)

    def copy_record(self, arm: Arm, source: Arm, ratio: float | None) -> None:
        """Record ``arm`` as ``source``'s result (same images, same seed: the same classifier)."""
        rec = dict(self.records[self.name(source)], synthetic_ratio=ratio, same_as=self.name(source))
        self.records[self.name(arm)] = rec
        self.tick(self.name(arm))


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
    """Train and score every arm of one fold at every real fraction; returns a JSON-ready record.

    Args:
        data: the whole :class:`~medgan.data.types.PreparedData`.
        train_idx, test_idx: the outer split (global indices).
        patients: grouping ids (after near-duplicate merging).
        config: the run's options; positive: positive class index for binary tasks (else None).
        fold_seed: seed of this (repeat, fold): inner split, subsets, GAN, classifier (same for every arm).
        gan_factory: ``gan_factory(model)(train_data, seed, out_dir) -> sampler``.
        gan_dir: folder for this fold's GAN runs; device: torch device.
        tick: progress callback, called after each arm with its name.
        quality_dir: if given, each GAN of the largest fraction is scored with
            :func:`medgan.evaluation.evaluate_quality` under ``quality_dir/<model>``.
    """
    t_fold = time.perf_counter()
    split = split_fold(data, train_idx, test_idx, patients, config, fold_seed)
    labels, sseed = data.labels.numpy(), scenario_seed(fold_seed)
    whole_inner = split.inner_idx
    if config.rare_class is not None:
        rare = list(data.class_names).index(config.rare_class)
        split = restrict_split(split, data, rare_subset(labels, split.inner_idx, patients, rare, config.rare_fraction,
                                                        sseed))
    fold = _FoldRun(data, config, positive, fold_seed, gan_factory, gan_dir, device, tick, quality_dir)
    for fraction in config.fractions:
        sub = split if fraction >= 1 else restrict_split(
            split, data, fraction_subset(labels, split.inner_idx, patients, fraction, sseed))
        fold.run_fraction(sub, fraction, excluded=np.setdiff1d(whole_inner, sub.inner_idx))  # rare drops too
    fold.timing["fold_seconds"] = time.perf_counter() - t_fold
    return {
        "device": device_label(device),
        "indices": {"inner_train": split.inner_idx.tolist(), "val": split.val_idx.tolist(),
                    "test": split.test_idx.tolist()},
        "inner_train_by_fraction": fold.subsets,
        "test_labels": split.test_y.tolist(),
        "test_patients": [patients[i] for i in split.test_idx],
        "counts": {"inner_train": len(split.inner_idx), "val": len(split.val_idx), "test": len(split.test_idx)},
        "arms": fold.records,
        "best_control": fold.best_control,
        "gan_proof": fold.proofs,
        "timing": fold.timing,
        "samples": fold.samples,
        "quality": fold.quality,
        "synthetic_filter": fold.filters,
    }


@dataclass
class _FoldRun:
    """The state of one fold across its real fractions (records, proofs, timing, quality)."""

    data: Any
    config: BenchmarkConfig
    positive: int | None
    fold_seed: int
    gan_factory: Callable[[str], GanFactory]
    gan_dir: Path
    device: torch.device
    tick: Callable[[str], None]
    quality_dir: Path | None
    records: dict[str, Any] = field(default_factory=dict)
    proofs: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    quality: dict[str, Any] = field(default_factory=dict)
    samples: dict[str, Any] = field(default_factory=dict)
    subsets: dict[str, list[int]] = field(default_factory=dict)
    best_control: dict[str, str] = field(default_factory=dict)
    timing: dict[str, float] = field(default_factory=lambda: {"gan_seconds": 0.0, "classifier_seconds": 0.0,
                                                              "synthesis_seconds": 0.0, "gans_reused": 0})

    def run_fraction(self, split: FoldSplit, fraction: float, excluded: np.ndarray) -> None:
        """Baseline, controls and every model's synthetic arms on ``split`` (one real fraction)."""
        cfg, top = self.config, fraction == self.config.fractions[0]
        if fraction < 1:
            self.subsets[f"{fraction:g}"] = split.inner_idx.tolist()
        trainer = ArmTrainer(split, cfg, self.positive, self.fold_seed + 17, len(self.data.class_names), self.device,
                             self.tick, self.records, fraction)
        baseline_models = trainer.train(Arm(None, BASELINE), (split.inner.images, split.inner.labels), 0.0)
        controls = train_controls(split, cfg, trainer, self.fold_seed)
        if controls:
            chosen = select_candidate({n: n for n in controls}, self.records, cfg.selection_metric)
            self.best_control[f"{fraction:g}"] = chosen
        gan_dir = self.gan_dir if fraction >= 1 else self.gan_dir / f"real{fraction:g}"
        for model in cfg.models:
            key = model if fraction == 1 else f"{model} real {fraction:g}"
            pool, self.proofs[key], filt = draw_pool(
                model, self.data, split, cfg, self.fold_seed, self.gan_factory, gan_dir, self.device, baseline_models,
                self.records[trainer.name(Arm(None, BASELINE))]["thresholds"], self.positive, self.timing)
            self.proofs[key].update(real_fraction=fraction, excluded_images=int(len(excluded)),
                                    excluded_indices_in_gan_train=int(len(np.intersect1d(split.inner_idx, excluded))),
                                    gan_train_patients=len(set(split.inner.patients)))
            if filt is not None:
                self.filters[key] = filt
            if top:
                self.samples[model] = pool.preview(8)
                if self.quality_dir is not None:
                    reference = dataset_tensors(synthetic_only(pool, pool_counts(pool, split.counts, 1.0)))
                    self.quality[model] = _quality(split.inner, self.data.subset(split.test_idx), reference,
                                                   self.quality_dir / model, self.fold_seed,
                                                   fast=cfg.preset == "quick")
            candidates = train_synthetic_arms(model, pool, split, cfg, trainer)
            self.records[trainer.name(Arm(model, SELECTED))] = selected_record(
                candidates, self.records, cfg.selection_metric, cfg.selection_rule, split.val_counts)
        self.timing["classifier_seconds"] += trainer.seconds


def train_controls(split: FoldSplit, config: BenchmarkConfig, trainer: ArmTrainer, fold_seed: int) -> list[str]:
    """Train the configured control arms; returns their names (the candidates for the best control)."""
    real = (split.inner.images, split.inner.labels)
    k = trainer.n_classes
    names = []
    for arm in control_arms(config.controls, config.synthetic_ratios):
        if arm.kind == DUPLICATE:
            trainer.train(arm, duplicate_real(*real, arm.ratio, k, fold_seed + 313), arm.ratio)
        elif arm.kind == CLASS_WEIGHT:
            weights = class_weights(real[1], k)
            if torch.allclose(weights, weights[0].expand_as(weights)):  # balanced: the baseline's classifier
                trainer.copy_record(arm, Arm(None, BASELINE), 0.0)
            else:
                trainer.train(arm, real, 0.0, Recipe(loss_fn=weighted_loss(weights)))
        elif arm.kind == STRONG_AUG:
            trainer.train(arm, real, 0.0, Recipe(augment=StrongAugment(), mix=mixup(k)))
        names.append(trainer.name(arm))
    return names


def pool_need(config: BenchmarkConfig, counts: np.ndarray) -> list[int]:
    """Synthetic images per class the fold's arms need (mix ratios, synthetic only, balance, pretrain)."""
    counts = [int(c) for c in counts]
    top = max(counts) if counts else 0
    ratio = max(list(config.synthetic_ratios) + ([config.tstr_ratio] if config.tstr else []) + [0.0]) \
        if "mix" in config.synthetic_uses or config.tstr else 0.0
    need = [int(math.ceil(ratio * c)) for c in counts]
    if "balance" in config.synthetic_uses:
        need = [max(n, top - c) for n, c in zip(need, counts)]
    if "pretrain" in config.synthetic_uses:
        need = [max(n, int(math.ceil(config.tstr_ratio * top))) for n in need]
    return need


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
    needed = pool_need(config, split.counts)
    filtering = config.synthetic_filter != "none"
    pool = SyntheticPool.generate(sampler, [n * (FILTER_POOL_FACTOR if filtering else 1) for n in needed],
                                  seed=fold_seed + 99)
    filt = None
    if config.synthetic_filter == "baseline":
        pool, filt = filter_pool(pool, baseline_models, thresholds, positive, device)
    elif config.synthetic_filter == "confidence":
        pool, filt = confidence_filter(pool, baseline_models, split.val_x, split.val_y, device)
    elif config.synthetic_filter == "proximity":
        pool, filt = proximity_filter(pool, baseline_models, split.inner.images, split.inner.labels, device)
    if filt is not None:
        filt["needed"] = needed
    timing["synthesis_seconds"] += time.perf_counter() - t0
    return pool, proof, filt


def train_synthetic_arms(model: str, pool: SyntheticPool, split: FoldSplit, config: BenchmarkConfig,
                         trainer: ArmTrainer) -> dict[str, str]:
    """Train ``model``'s synthetic arms; returns the selection candidates ``{use: arm name}`` in tie-break
    order (``baseline`` first when 0 is among the ratios, then ``mix <r>`` by ratio, ``balance``, ``pretrain``)."""
    real = (split.inner.images, split.inner.labels)
    uses = config.synthetic_uses
    candidates = {use_of_ratio(0): trainer.name(Arm(None, BASELINE))} if config.baseline_is_candidate else {}
    for r in config.synthetic_ratios if "mix" in uses else ():
        arm = Arm(model, MIX, r)
        trainer.train(arm, dataset_tensors(mix_with_real(pool, real, r)), r)
        candidates[use_of_ratio(r)] = trainer.name(arm)
    if "balance" in uses:
        arm, xy = Arm(model, BALANCE), dataset_tensors(balance_with_real(pool, real))
        if len(xy[1]) == len(real[1]):  # balanced already: nothing to add, the baseline's classifier
            trainer.copy_record(arm, Arm(None, BASELINE), 0.0)
        else:
            trainer.train(arm, xy, None)
        candidates["balance"] = trainer.name(arm)
    if "pretrain" in uses:
        top = int(max(split.counts)) if len(split.counts) else 0
        counts = pool_counts(pool, [top] * len(split.counts), config.tstr_ratio)  # balanced synthetic set
        arm = Arm(model, PRETRAIN)
        trainer.train(arm, real, None, pretrain_xy=dataset_tensors(synthetic_only(pool, counts)))
        candidates["pretrain"] = trainer.name(arm)
    if config.tstr:
        counts = pool_counts(pool, split.counts, config.tstr_ratio)
        trainer.train(Arm(model, ONLY, config.tstr_ratio), dataset_tensors(synthetic_only(pool, counts)),
                      config.tstr_ratio)
    return candidates


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
    return {"markdown": quality_summary_markdown(res), "warnings": quality_warnings(res), "dir": str(out_dir)}

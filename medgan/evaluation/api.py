"""``evaluate_quality``: every quality number for one set of synthetic images, per class and overall.

Which real images play which role:

- ``real_train`` -- the images the GAN was trained on. The "trained" feature extractor is fitted on
  them, and the memorization check measures how close synthetic images come to them.
- ``real_holdout`` -- real images of patients the GAN never saw. They are the *reference* for fidelity,
  diversity, the two views and the two-sample test (neither the GAN nor the feature extractor saw them),
  and they give the memorization check its yardstick (how close does a genuinely new image come to the
  training set?).
- ``baseline_real``: the same fidelity metrics with ``real_train`` in the place of the synthetic images
  -- what "as good as real" looks like at these sample sizes (the trained extractor has seen
  ``real_train``, so this baseline is slightly pessimistic, never optimistic).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan.data.types import PreparedData
from medgan.errors import ConfigError, DataError
from medgan.evaluation.class_signal import class_signal
from medgan.evaluation.diversity import mean_pairwise_ms_ssim
from medgan.evaluation.features import FeatureExtractor, build_feature_extractor
from medgan.evaluation.fidelity import fidelity_metrics
from medgan.evaluation.memorization import memorization_report
from medgan.evaluation.report import save_result, write_report
from medgan.evaluation.two_sample import two_sample_test
from medgan.evaluation.views import feature_correlations, knn_real_share

__all__ = ["evaluate_quality"]

#: Headline keys per group (what the Markdown tables and the benchmark summary show).
_FAST = {"epochs": 2, "pairs": 40, "splits": 3, "signal_steps": 80}
_FULL = {"epochs": 8, "pairs": 150, "splits": 5, "signal_steps": 300}


def evaluate_quality(
    real_train: PreparedData, real_holdout: PreparedData, synthetic_images: torch.Tensor,
    synthetic_labels: torch.Tensor, out_dir: Path | str | None = None, seed: int = 0, figures: bool = True,
    feature_kind: str = "trained", fast: bool = False, k: int = 5, umap: bool | None = None,
    notes: list[str] | None = None, context: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fidelity, diversity, memorization, two views and a two-sample test of synthetic images.

    Args:
        real_train: the real images the generator was trained on (:class:`PreparedData`).
        real_holdout: real images of patients the generator never saw (same classes, same image size).
        synthetic_images: (M, 1, S, S) in [-1, 1].
        synthetic_labels: (M,) class indices into ``real_train.class_names``.
        out_dir: if given, writes ``quality.json``, ``quality.md`` and (with ``figures``) PNG figures there.
        seed: seeds the feature extractor, pair sampling, CV splits and UMAP (deterministic).
        figures: draw figures (only when ``out_dir`` is given).
        feature_kind: ``"trained"`` (default) or ``"random"`` -- the primary feature space; the other
            kind is always computed as a cross-check (``fidelity_cross_check``).
        fast: fewer extractor epochs / MS-SSIM pairs / CV folds and no UMAP (for tests).
        k: neighbourhood size of precision/recall/density/coverage.
        umap: draw the UMAP figure (default: ``figures and not fast``; umap-learn costs ~30 s cold).
        notes: extra lines for the report (e.g. "holdout fell back to a grouped split").
        context: extra JSON-able facts recorded under ``"context"`` (checkpoint path, data spec ...).

    Returns:
        A JSON-serialisable dict with ``overall`` and ``per_class`` results (see docs/evaluation.md).
    """
    t0 = time.perf_counter()
    cfg = _FAST if fast else _FULL
    syn, syn_y = _check_inputs(real_train, real_holdout, synthetic_images, synthetic_labels)
    names = list(real_train.class_names)
    other_kind = "random" if feature_kind == "trained" else "trained"
    extractors = {kind: build_feature_extractor(kind, real_train.images, real_train.labels, len(names), seed=seed,
                                                epochs=cfg["epochs"]) for kind in (feature_kind, other_kind)}
    feats = {kind: {"train": ex(real_train.images), "holdout": ex(real_holdout.images), "synthetic": ex(syn)}
             for kind, ex in extractors.items()}
    inputs = _GroupInputs(real_train, real_holdout, syn, syn_y, feats[feature_kind], feats[other_kind],
                          extractors["trained"], cfg, k, other_kind)
    tr_y, ho_y = real_train.labels.long(), real_holdout.labels.long()
    overall = inputs.group(torch.ones(len(tr_y), dtype=torch.bool), torch.ones(len(ho_y), dtype=torch.bool),
                           torch.ones(len(syn_y), dtype=torch.bool), seed)
    per_class = {name: inputs.group(tr_y == c, ho_y == c, syn_y == c, seed + 1 + c) for c, name in enumerate(names)}
    signal = class_signal(real_train.images, tr_y, real_holdout.images, ho_y, syn, syn_y, names, seed=seed,
                          epochs=cfg["epochs"], min_steps=cfg["signal_steps"])
    overall.update(signal["overall"])
    for name, g in per_class.items():
        g.update(signal["per_class"][name])
    notes = list(notes or []) + _chance_note(overall, ho_y, len(names))
    result: dict[str, Any] = {
        "version": 1,
        "seed": int(seed),
        "fast": bool(fast),
        "class_names": names,
        "image_size": int(real_train.image_size),
        "reference": "real_holdout",
        "feature_extractor": {"primary": extractors[feature_kind].describe(), "cross_check": extractors[other_kind].describe()},
        "class_signal_recipe": signal["recipe"],
        "sizes": {"train": len(tr_y), "holdout": len(ho_y), "synthetic": len(syn_y)},
        "notes": notes,
        "context": dict(context or {}),
        "overall": overall,
        "per_class": per_class,
        "figures": {},
    }
    if out_dir is not None:
        draw_umap = (figures and not fast) if umap is None else bool(umap)
        write_report(result, Path(out_dir), real_train, real_holdout, syn, syn_y, feats[feature_kind],
                     figures=figures, umap=draw_umap, seed=seed)
    for g in [overall, *per_class.values()]:
        g.pop("_mem_raw"), g.pop("_corr")
    result["seconds"] = round(time.perf_counter() - t0, 2)
    result = _clean(result)
    if out_dir is not None:
        save_result(result, Path(out_dir))
    return result


@dataclass
class _GroupInputs:
    """What every group (one class, or all) is scored from."""

    real_train: PreparedData
    real_holdout: PreparedData
    syn: torch.Tensor
    syn_y: torch.Tensor
    feats: dict[str, torch.Tensor]
    other_feats: dict[str, torch.Tensor]
    trained: FeatureExtractor
    cfg: dict[str, int]
    k: int
    other_kind: str

    def group(self, mask_tr: torch.Tensor, mask_ho: torch.Tensor, mask_syn: torch.Tensor, sub_seed: int) -> dict[str, Any]:
        """Fidelity, diversity, memorization, two-sample test, views and label agreement of one group."""
        f, fo, k, cfg = self.feats, self.other_feats, self.k, self.cfg
        tr_img, ho_img, syn = self.real_train.images[mask_tr], self.real_holdout.images[mask_ho], self.syn[mask_syn]
        ho_p = [str(p) for p in self.real_holdout.patients]
        res: dict[str, Any] = {"n_train": int(mask_tr.sum()), "n_holdout": int(mask_ho.sum()),
                               "n_synthetic": int(mask_syn.sum())}
        res["fidelity"] = fidelity_metrics(f["holdout"][mask_ho], f["synthetic"][mask_syn], k)
        res["baseline_real"] = fidelity_metrics(f["holdout"][mask_ho], f["train"][mask_tr], k)
        res["fidelity_cross_check"] = {"features": self.other_kind,
                                       **fidelity_metrics(fo["holdout"][mask_ho], fo["synthetic"][mask_syn], k)}
        res["diversity"] = {"ms_ssim_synthetic": mean_pairwise_ms_ssim(syn, cfg["pairs"], sub_seed),
                            "ms_ssim_real": mean_pairwise_ms_ssim(torch.cat([tr_img, ho_img]), cfg["pairs"], sub_seed)}
        mem = memorization_report(syn, tr_img, ho_img)
        res["memorization"] = {key: v for key, v in mem.items() if key not in ("synthetic_distances", "holdout_distances")}
        res["two_sample"] = two_sample_test(f["holdout"][mask_ho], f["synthetic"][mask_syn], cfg["splits"], sub_seed,
                                            real_groups=[ho_p[i] for i in np.flatnonzero(mask_ho.numpy())])
        res["knn_real_share"] = knn_real_share(f["holdout"][mask_ho], f["synthetic"][mask_syn], k=10)
        corr = feature_correlations(f["holdout"][mask_ho], f["synthetic"][mask_syn])
        res["correlation_mean_abs_difference"] = corr["mean_abs_difference"]
        res["label_agreement"] = _accuracy(self.trained, syn, self.syn_y[mask_syn])
        res["label_agreement_real_holdout"] = _accuracy(self.trained, ho_img, self.real_holdout.labels.long()[mask_ho])
        res["_mem_raw"], res["_corr"] = mem, corr
        return res


def _chance_note(overall: dict[str, Any], ho_y: torch.Tensor, n_classes: int) -> list[str]:
    """A note when the trained extractor classifies held-out real images no better than chance."""
    acc = overall.get("label_agreement_real_holdout")
    if acc is None or len(ho_y) == 0:
        return []
    chance = float(torch.bincount(ho_y, minlength=n_classes).max()) / len(ho_y)
    overall["feature_classifier_chance"] = chance
    if acc <= chance + 2 * math.sqrt(chance * (1 - chance) / len(ho_y)):
        return [f"the trained feature extractor classifies held-out real images at {acc:.2f} (chance {chance:.2f}): "
                "its features are not class-informative here, so trust the random-feature cross-check as much"]
    return []


def _check_inputs(real_train: PreparedData, real_holdout: PreparedData, images: torch.Tensor,
                  labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if list(real_train.class_names) != list(real_holdout.class_names):
        raise DataError(f"training classes {real_train.class_names} differ from holdout classes "
                        f"{real_holdout.class_names}", "take both from one prepared data set")
    if len(real_train) < 2 or len(real_holdout) < 2:
        raise DataError(f"need at least 2 real training and 2 held-out images, got {len(real_train)} and "
                        f"{len(real_holdout)}", "evaluate on a larger data set")
    images = torch.as_tensor(images).float()
    labels = torch.as_tensor(labels).long().view(-1)
    if images.ndim != 4 or images.shape[1] != 1 or tuple(images.shape[2:]) != tuple(real_train.images.shape[2:]):
        raise ConfigError(f"synthetic images have shape {tuple(images.shape)}, expected (M, 1, "
                          f"{real_train.image_size}, {real_train.image_size})",
                          "prepare the real data at the generator's image size")
    if images.shape[0] != labels.shape[0] or images.shape[0] < 2:
        raise ConfigError(f"{images.shape[0]} synthetic images but {labels.shape[0]} labels (need >= 2, equal)",
                          "pass one label per synthetic image")
    if not torch.isfinite(images).all():
        raise DataError("synthetic images contain NaN/inf", "check the generator checkpoint")
    n_cls = len(real_train.class_names)
    if labels.min() < 0 or labels.max() >= n_cls:
        raise ConfigError(f"synthetic labels must lie in 0..{n_cls - 1}", f"classes are {real_train.class_names}")
    return images.clamp(-1.0, 1.0), labels


@torch.no_grad()
def _accuracy(extractor: FeatureExtractor, images: torch.Tensor, labels: torch.Tensor) -> float:
    if images.shape[0] == 0:
        return float("nan")
    extractor.model.eval()
    pred = torch.cat([extractor.model(images[i:i + 256]).argmax(1) for i in range(0, images.shape[0], 256)])
    return float((pred == labels).float().mean())


def _clean(obj: Any) -> Any:
    """Recursively make JSON-safe: numpy scalars -> Python, NaN/inf -> None."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    return obj

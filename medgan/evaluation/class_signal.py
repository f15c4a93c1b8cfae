"""Does a synthetic image carry its class? Train-on-synthetic-test-on-real (TSTR) and class leak.

Fidelity metrics (FD, precision/recall) ask whether synthetic images look real; they do not ask whether
a "metastasis" image shows a metastasis. Two numbers per class do, both scored on real images of
patients the generator never saw:

- ``tstr_auc``: one-vs-rest AUC on held-out real images of a classifier trained on the synthetic
  images only, next to ``real_auc``, the same recipe trained on the real training images, and their
  ratio ``tstr_ratio`` (1 = synthetic images teach the class as well as real ones; Ravuri & Vinyals
  2019 showed FID does not predict this).
- ``class_leak``: the share of synthetic images of class c that the real-trained classifier assigns to
  another class, next to ``real_misclass``, that classifier's error rate on held-out real images of c.
  A generator that paints lesions into "normal" slices leaks far more than the real data confuses.

The recipe is :func:`medgan.evaluation.features.train_feature_cnn` for both classifiers, at the same
number of optimizer steps (at least ``min_steps``; epochs scaled by the set sizes), so the
synthetic-trained classifier is neither under- nor over-trained relative to the real one.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.metrics import roc_auc_score

from medgan.evaluation.features import FeatureCNN, train_feature_cnn

__all__ = ["class_signal", "predict_proba"]


@torch.no_grad()
def predict_proba(model: FeatureCNN, images: torch.Tensor, batch_size: int = 256) -> np.ndarray:
    """Softmax class probabilities (N, K) of a :class:`FeatureCNN` in eval mode."""
    model.eval()
    out = [torch.softmax(model(images[i:i + batch_size].float()), 1) for i in range(0, int(images.shape[0]), batch_size)]
    return torch.cat(out).double().numpy() if out else np.zeros((0, model.head.out_features))


def _ovr_auc(labels: np.ndarray, proba: np.ndarray, c: int) -> float:
    positive = labels == c
    if positive.all() or not positive.any():
        return float("nan")
    return float(roc_auc_score(positive, proba[:, c]))


def _ratio(a: float, b: float) -> float:
    return a / b if math.isfinite(a) and math.isfinite(b) and b > 0 else float("nan")


def _group(labels: np.ndarray, proba_real: np.ndarray, proba_tstr: np.ndarray, syn_y: np.ndarray,
           syn_pred: np.ndarray, classes: list[int]) -> dict[str, Any]:
    """The class-signal numbers of one group: one class, or all classes (macro AUC, pooled rates)."""
    tstr = float(np.nanmean([_ovr_auc(labels, proba_tstr, c) for c in classes] or [np.nan]))
    real = float(np.nanmean([_ovr_auc(labels, proba_real, c) for c in classes] or [np.nan]))
    syn_mask, real_mask = np.isin(syn_y, classes), np.isin(labels, classes)
    leak = float((syn_pred[syn_mask] != syn_y[syn_mask]).mean()) if syn_mask.any() else float("nan")
    real_pred = proba_real.argmax(1)
    misclass = float((real_pred[real_mask] != labels[real_mask]).mean()) if real_mask.any() else float("nan")
    return {"tstr_auc": tstr, "real_auc": real, "tstr_ratio": _ratio(tstr, real), "class_leak": leak,
            "real_misclass": misclass, "leak_ratio": _ratio(leak, misclass)}


def _epochs_for(steps: int, n: int, batch_size: int) -> int:
    return max(1, math.ceil(steps / max(1, math.ceil(n / batch_size))))


def class_signal(real_train_images: torch.Tensor, real_train_labels: torch.Tensor, holdout_images: torch.Tensor,
                 holdout_labels: torch.Tensor, synthetic_images: torch.Tensor, synthetic_labels: torch.Tensor,
                 class_names: list[str], seed: int = 0, epochs: int = 8, min_steps: int = 300,
                 batch_size: int = 32) -> dict[str, Any]:
    """TSTR AUC vs real AUC and class leak vs real misclassification, per class and overall.

    Args:
        real_train_images, real_train_labels: the real images the generator was trained on.
        holdout_images, holdout_labels: real images of patients the generator never saw (the test set).
        synthetic_images, synthetic_labels: the generator's images and the classes they were drawn for.
        class_names: class names (index = label).
        seed: seeds both classifiers (same initialisation, shuffling and flips).
        epochs, min_steps: the real-trained classifier runs ``max(min_steps, epochs x its steps per epoch)``
            optimizer steps; the synthetic-trained one runs the same number of steps.
        batch_size: batch size of both.

    Returns:
        ``{"per_class": {name: {...}}, "overall": {...}, "recipe": {...}}`` with the keys
        ``tstr_auc, real_auc, tstr_ratio, class_leak, real_misclass, leak_ratio`` in every group.
    """
    k = len(class_names)
    n_real, n_syn = int(real_train_images.shape[0]), int(synthetic_images.shape[0])
    steps = max(int(min_steps), int(epochs) * math.ceil(n_real / batch_size))
    real_epochs, syn_epochs = _epochs_for(steps, n_real, batch_size), _epochs_for(steps, n_syn, batch_size)
    real_model = train_feature_cnn(real_train_images, real_train_labels, k, epochs=real_epochs,
                                   batch_size=batch_size, seed=seed)
    tstr_model = train_feature_cnn(synthetic_images, synthetic_labels, k, epochs=syn_epochs,
                                   batch_size=batch_size, seed=seed)
    labels = holdout_labels.long().numpy()
    proba_real, proba_tstr = predict_proba(real_model, holdout_images), predict_proba(tstr_model, holdout_images)
    syn_y = synthetic_labels.long().numpy()
    syn_pred = predict_proba(real_model, synthetic_images).argmax(1)
    per_class = {name: _group(labels, proba_real, proba_tstr, syn_y, syn_pred, [c]) for c, name in enumerate(class_names)}
    overall = _group(labels, proba_real, proba_tstr, syn_y, syn_pred, list(range(k)))
    recipe = {"classifier": "FeatureCNN (train_feature_cnn)", "steps": steps, "real_epochs": real_epochs,
              "synthetic_epochs": syn_epochs, "n_real_train": n_real, "n_synthetic": n_syn,
              "n_holdout": int(holdout_images.shape[0]), "seed": int(seed)}
    return {"per_class": per_class, "overall": overall, "recipe": recipe}

"""Memorization (patient privacy): are synthetic images closer to training images than real images are?

Distances are root-mean-square pixel differences in the [-1, 1] model range (0 = identical image;
two unrelated images are typically 0.3-1.0 apart). Pixel space is used on purpose: a copied training
slice is identical in pixels, whereas a classifier's features may map different images together.

For every synthetic image we find its nearest training image; the same is done for held-out real
images (patients the GAN never saw), which gives the reference: how close does an honest *new* image
come to the training set? A synthetic image is **flagged** when it is closer to a training image than
the ``quantile`` (default 5 %) of the held-out real distances -- so an honest generator has about 5 %
flagged, a copying generator close to 100 %.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn.neighbors import NearestNeighbors

from medgan.errors import ConfigError

__all__ = ["nearest_train_distances", "memorization_report", "find_near_copies"]


def _flat(images: Any) -> np.ndarray:
    arr = images.detach().cpu().numpy() if hasattr(images, "detach") else np.asarray(images)
    return arr.astype(np.float32).reshape(arr.shape[0], -1)


def nearest_train_distances(queries: Any, train: Any) -> tuple[np.ndarray, np.ndarray]:
    """RMS pixel distance of each query image to its nearest training image, and that image's index."""
    q, t = _flat(queries), _flat(train)
    if q.shape[0] == 0:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    if t.shape[0] == 0:
        raise ConfigError("no training images to compare with", "pass a non-empty real training set")
    dist, idx = NearestNeighbors(n_neighbors=1).fit(t).kneighbors(q)
    return dist[:, 0] / np.sqrt(t.shape[1]), idx[:, 0].astype(np.int64)


def memorization_report(
    synthetic: Any, train: Any, holdout: Any, quantile: float = 0.05, n_pairs: int = 8,
) -> dict[str, Any]:
    """Compare synthetic->train with holdout->train nearest-neighbour distances.

    Returns a JSON-able dict: ``threshold`` (the ``quantile`` of holdout distances), ``flagged_fraction``
    (synthetic images below it; about ``quantile`` for an honest generator), ``holdout_flagged_fraction``
    (same rule on the holdout itself, the baseline), ``frac_closer_than_holdout_median`` (about 0.5 for an
    honest generator), the medians, ``closest`` (the ``n_pairs`` closest synthetic/train index pairs with
    their distances) and the raw distance lists (for the histogram figure).
    """
    d_syn, nn_syn = nearest_train_distances(synthetic, train)
    d_hold, _ = nearest_train_distances(holdout, train)
    if d_hold.size == 0:
        threshold, median_hold = float("nan"), float("nan")
    else:
        threshold, median_hold = float(np.quantile(d_hold, quantile)), float(np.median(d_hold))
    order = np.argsort(d_syn)[: int(n_pairs)]
    return {
        "distance": "rms_pixel",
        "quantile": float(quantile),
        "threshold": threshold,
        "flagged_fraction": float((d_syn < threshold).mean()) if d_syn.size and d_hold.size else float("nan"),
        "holdout_flagged_fraction": float((d_hold < threshold).mean()) if d_hold.size else float("nan"),
        "frac_closer_than_holdout_median": float((d_syn < median_hold).mean()) if d_syn.size and d_hold.size else float("nan"),
        "median_synthetic_to_train": float(np.median(d_syn)) if d_syn.size else float("nan"),
        "median_holdout_to_train": median_hold,
        "min_synthetic_to_train": float(d_syn.min()) if d_syn.size else float("nan"),
        "closest": [{"synthetic": int(i), "train": int(nn_syn[i]), "distance": float(d_syn[i])} for i in order],
        "synthetic_distances": [float(v) for v in d_syn],
        "holdout_distances": [float(v) for v in d_hold],
    }


def find_near_copies(synthetic: torch.Tensor, train: torch.Tensor, threshold: float) -> torch.Tensor:
    """Boolean mask (M,): True where a synthetic image is within ``threshold`` RMS pixel distance of a
    training image (for ``medgan synthesize --drop-near-copies``).

    A sensible threshold is :func:`memorization_report`'s ``threshold`` (5 % quantile of held-out real
    distances); ``threshold=0.02`` catches near-exact copies only.
    """
    if not float(threshold) >= 0:
        raise ConfigError(f"near-copy threshold must be >= 0, got {threshold}", "e.g. 0.02 (RMS in [-1, 1] units)")
    if tuple(synthetic.shape[1:]) != tuple(train.shape[1:]):
        raise ConfigError(f"synthetic images {tuple(synthetic.shape[1:])} and training images "
                          f"{tuple(train.shape[1:])} differ in shape", "prepare the data at the generator's image size")
    d, _ = nearest_train_distances(synthetic, train)
    return torch.as_tensor(d <= float(threshold), dtype=torch.bool)

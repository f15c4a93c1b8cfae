"""The two views from the field's tutorials: feature correlation matrices and a 2-D UMAP.

- Correlation matrices: Pearson correlations between feature dimensions, computed within the real
  and within the synthetic samples; a faithful generator reproduces the real *structure*, so the
  difference matrix is near zero. Summary: mean absolute difference (off-diagonal).
- Nearest-neighbour mixing: for each synthetic sample, its 10 nearest neighbours among all other real
  and synthetic samples (in feature space); the share of real images among them. If the two sets were
  indistinguishable that share is about ``n_real / (n_real + n_synthetic - 1)`` (reported as
  ``expected``); near 0 means the synthetic samples form their own cluster.
- UMAP (umap-learn) of the pooled features for the picture, with the same share computed in 2-D.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from sklearn.neighbors import NearestNeighbors

from medgan.utils.figures import colormaps, new_figure, save_png

__all__ = ["feature_correlations", "knn_real_share", "umap_embedding", "plot_correlations", "plot_umap"]


def _np(x: Any) -> np.ndarray:
    arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return arr.astype(np.float64).reshape(arr.shape[0], -1)


def _corr(x: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.corrcoef(x, rowvar=False)
    return np.nan_to_num(np.atleast_2d(c), nan=0.0)


def feature_correlations(real: Any, fake: Any) -> dict[str, Any]:
    """Correlation matrices (D, D) of real and synthetic features, their difference and its mean |.|."""
    cr, cf = _corr(_np(real)), _corr(_np(fake))
    diff = cf - cr
    off = ~np.eye(diff.shape[0], dtype=bool)
    return {"real": cr, "synthetic": cf, "difference": diff,
            "mean_abs_difference": float(np.abs(diff[off]).mean()) if off.any() else 0.0}


def knn_real_share(real: Any, fake: Any, k: int = 10) -> dict[str, float]:
    """Share of real samples among each synthetic sample's ``k`` nearest neighbours (pooled, self excluded)."""
    r, f = _np(real), _np(fake)
    n_r, n_f = r.shape[0], f.shape[0]
    if n_r == 0 or n_f == 0 or n_r + n_f < 2:
        return {"share": float("nan"), "expected": float("nan"), "k": int(k)}
    pooled = np.concatenate([r, f])
    k_eff = min(int(k), n_r + n_f - 1)
    _, idx = NearestNeighbors(n_neighbors=k_eff + 1).fit(pooled).kneighbors(f)
    share = []
    for row, self_index in zip(idx, range(n_r, n_r + n_f)):
        neigh = [j for j in row if j != self_index][:k_eff]
        share.append(np.mean(np.asarray(neigh) < n_r))
    return {"share": float(np.mean(share)), "expected": float(n_r / (n_r + n_f - 1)), "k": int(k_eff)}


def umap_embedding(real: Any, fake: Any, seed: int = 0) -> np.ndarray:
    """2-D UMAP of the pooled (standardised) features: rows 0..n_real-1 real, then synthetic."""
    import umap

    pooled = np.concatenate([_np(real), _np(fake)])
    pooled = (pooled - pooled.mean(0)) / (pooled.std(0) + 1e-8)
    n_neighbors = int(min(15, max(2, pooled.shape[0] - 1)))
    reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=0.1, random_state=int(seed), n_jobs=1)
    return np.asarray(reducer.fit_transform(pooled))


def plot_correlations(corr: dict[str, Any], path: Path, title: str = "") -> None:
    """Save real | synthetic | difference correlation matrices side by side."""
    fig, axes = new_figure(1, 3, figsize=(10.5, 3.4))
    for ax, key, cmap, lim in zip(axes, ("real", "synthetic", "difference"), ("coolwarm", "coolwarm", "PuOr"), (1, 1, 1)):
        im = ax.imshow(corr[key], cmap=cmap, vmin=-lim, vmax=lim)
        ax.set_title(key if key != "difference" else f"synthetic - real (mean |d| {corr['mean_abs_difference']:.2f})",
                     fontsize=9)
        ax.set_xticks([]), ax.set_yticks([])
        fig.colorbar(im, ax=ax, fraction=0.046)
    fig.suptitle(title or "feature correlation matrices", fontsize=10)
    fig.tight_layout()
    _save(fig, path)


def plot_umap(emb: np.ndarray, n_real: int, labels: np.ndarray, class_names: list[str], path: Path,
              title: str = "") -> None:
    """Save a UMAP scatter: real (circles) vs synthetic (crosses), coloured by class."""
    fig, ax = new_figure(figsize=(5.2, 4.6))
    colours = colormaps["tab10"]
    for c, name in enumerate(class_names):
        real_c = np.flatnonzero(labels[:n_real] == c)
        fake_c = n_real + np.flatnonzero(labels[n_real:] == c)
        ax.scatter(emb[real_c, 0], emb[real_c, 1], s=12, marker="o", color=colours(c % 10), alpha=0.6,
                   label=f"real {name}")
        ax.scatter(emb[fake_c, 0], emb[fake_c, 1], s=14, marker="x", color=colours(c % 10), alpha=0.8,
                   label=f"synthetic {name}")
    ax.legend(fontsize=7, loc="best")
    ax.set_xticks([]), ax.set_yticks([])
    ax.set_title(title or "UMAP of real (o) and synthetic (x) features", fontsize=9)
    fig.tight_layout()
    _save(fig, path)


def _save(fig: Any, path: Path) -> None:
    save_png(fig, path, dpi=90)

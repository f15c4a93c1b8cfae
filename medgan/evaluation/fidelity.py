"""Fidelity metrics on feature vectors: Fréchet distance, MMD, precision/recall, density/coverage.

All functions take real features ``(N, D)`` and synthetic features ``(M, D)`` (torch tensors or numpy
arrays) and return plain floats.

- Fréchet distance: MONAI ``FIDMetric`` (Gaussian fit of each feature cloud; 0 = same mean and covariance).
- MMD: MONAI ``MMDMetric`` -- the unbiased estimate of squared MMD with a *linear* kernel, i.e. the squared
  distance between the two feature means (minus finite-sample bias); ~0 (can be slightly negative) when
  both come from one distribution.
- Precision / recall (Kynkäänniemi et al. 2019): share of synthetic samples inside the real k-NN manifold
  (fidelity) and of real samples inside the synthetic manifold (diversity / coverage of modes).
- Density / coverage (Naeem et al. 2020): density counts how many real k-NN balls contain each synthetic
  sample, divided by k (~1 for identical distributions, > 1 when synthetic samples crowd dense real
  regions); coverage is the share of real samples whose k-NN ball holds at least one synthetic sample.
"""
from __future__ import annotations

import contextlib
import io
import warnings
from typing import Any

import numpy as np
import torch
from monai.metrics import FIDMetric, MMDMetric
from scipy.linalg import sqrtm
from sklearn.neighbors import NearestNeighbors

__all__ = ["frechet_distance", "mmd", "knn_radii", "precision_recall", "density_coverage", "fidelity_metrics"]


def _np(x: Any) -> np.ndarray:
    arr = x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)
    return arr.astype(np.float64).reshape(arr.shape[0], -1)


def frechet_distance(real: Any, fake: Any) -> float:
    """Fréchet distance between Gaussian fits of the two feature sets (MONAI ``FIDMetric``)."""
    r, f = torch.from_numpy(_np(real)), torch.from_numpy(_np(fake))
    if r.shape[0] < 2 or f.shape[0] < 2:
        return float("nan")
    # MONAI prints a note on near-singular covariances and passes scipy a deprecated argument: keep quiet
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # also scipy's "singular matrix" notes when N < feature dimension
        try:
            value = float(FIDMetric()(f, r))
        except TypeError as exc:  # MONAI <= 1.6 passes sqrtm(disp=False), which newer SciPy no longer takes
            if "disp" not in str(exc):
                raise
            value = _frechet_scipy(f.numpy(), r.numpy())
    return max(value, 0.0)


def _frechet_scipy(x: np.ndarray, y: np.ndarray, epsilon: float = 1e-6) -> float:
    """MONAI's Fréchet distance formula on ``(N, D)`` float64 arrays, with SciPy's current ``sqrtm``."""
    mu_x, mu_y = x.mean(0), y.mean(0)
    sx, sy = np.atleast_2d(np.cov(x, rowvar=False)), np.atleast_2d(np.cov(y, rowvar=False))
    covmean = sqrtm(sx @ sy)
    if not np.isfinite(covmean).all():  # near-singular product: MONAI adds epsilon to the diagonals
        offset = np.eye(len(sx)) * epsilon
        covmean = sqrtm((sx + offset) @ (sy + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"Imaginary component {np.abs(covmean.imag).max()} too high.")
        covmean = covmean.real
    diff = mu_x - mu_y
    return float(diff @ diff + np.trace(sx) + np.trace(sy) - 2 * np.trace(covmean))


def mmd(real: Any, fake: Any, seed: int = 0, draws: int = 8) -> float:
    """Unbiased linear-kernel MMD^2 between the feature sets (MONAI ``MMDMetric``).

    MONAI's metric needs equally many samples on both sides: when the sizes differ, the larger set is
    subsampled to the smaller size ``draws`` times (``np.random.default_rng(seed)``) and the mean is returned.
    """
    r, f = _np(real), _np(fake)
    n = min(r.shape[0], f.shape[0])
    if n < 2:
        return float("nan")
    metric = MMDMetric()
    if r.shape[0] == f.shape[0]:
        return float(metric(torch.from_numpy(r), torch.from_numpy(f)))
    rng = np.random.default_rng(int(seed))
    vals = []
    for _ in range(int(draws)):
        rs = r[rng.choice(r.shape[0], n, replace=False)] if r.shape[0] > n else r
        fs = f[rng.choice(f.shape[0], n, replace=False)] if f.shape[0] > n else f
        vals.append(float(metric(torch.from_numpy(rs), torch.from_numpy(fs))))
    return float(np.mean(vals))


def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance of each point to its k-th nearest neighbour within the same set (itself excluded)."""
    k_eff = min(int(k), points.shape[0] - 1)
    nn = NearestNeighbors(n_neighbors=k_eff + 1).fit(points)
    dist, _ = nn.kneighbors(points)
    return dist[:, k_eff]


def _inside_counts(centres: np.ndarray, radii: np.ndarray, queries: np.ndarray) -> np.ndarray:
    """For each query, how many balls ``(centres[i], radii[i])`` contain it (boundary included)."""
    d = np.sqrt(np.maximum(((queries[:, None, :] - centres[None, :, :]) ** 2).sum(-1), 0.0))  # (Q, C)
    return (d <= radii[None, :] * (1 + 1e-9)).sum(1)


def precision_recall(real: Any, fake: Any, k: int = 5) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al. 2019) with k-NN manifolds."""
    r, f = _np(real), _np(fake)
    if r.shape[0] < 2 or f.shape[0] < 2:
        return float("nan"), float("nan")
    precision = float((_inside_counts(r, knn_radii(r, k), f) > 0).mean())
    recall = float((_inside_counts(f, knn_radii(f, k), r) > 0).mean())
    return precision, recall


def density_coverage(real: Any, fake: Any, k: int = 5) -> tuple[float, float]:
    """Density and coverage (Naeem et al. 2020) with k-NN balls around the real samples."""
    r, f = _np(real), _np(fake)
    if r.shape[0] < 2 or f.shape[0] < 1:
        return float("nan"), float("nan")
    k_eff = min(int(k), r.shape[0] - 1)
    radii = knn_radii(r, k_eff)
    density = float(_inside_counts(r, radii, f).sum() / (k_eff * f.shape[0]))
    nearest_fake = NearestNeighbors(n_neighbors=1).fit(f).kneighbors(r)[0][:, 0]
    coverage = float((nearest_fake <= radii * (1 + 1e-9)).mean())
    return density, coverage


def fidelity_metrics(real: Any, fake: Any, k: int = 5) -> dict[str, float]:
    """All fidelity metrics for one pair of feature sets, as a JSON-able dict."""
    p, r = precision_recall(real, fake, k)
    d, c = density_coverage(real, fake, k)
    return {
        "frechet_distance": frechet_distance(real, fake), "mmd": mmd(real, fake),
        "precision": p, "recall": r, "density": d, "coverage": c,
        "n_real": int(_np(real).shape[0]), "n_synthetic": int(_np(fake).shape[0]), "k": int(k),
    }

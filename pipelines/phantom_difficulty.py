"""How hard is the built-in CT phantom? Train a small CNN at two training-set sizes and print test accuracy.

The phantom is meant to leave a real gap: with ~30 training slices per class a small CNN should be
far from 100 %, with ~300 per class it should do much better -- the room synthetic data could fill.

Protocol (per seed): one phantom pool of ``max(n_train) + n_test`` slices per class is generated with
``make_phantom(seed=seed)``, prepared at 64 x 64 in the abdomen window (``prepare_tensors``), split by
patient (``grouped_split``: no patient on both sides) into a fixed test set and a training pool; for
each ``n_train`` a patient-level subset of the pool with about ``n_train`` slices per class trains a
4-block CNN (Adam, one-cycle LR peaking at 2e-3, batch 32, random flips + rotations, ``--epochs`` epochs but at least
``--min-steps`` optimiser steps so the small set is trained to convergence too).

Usage::

    python pipelines/phantom_difficulty.py                     # n_train 30, 100, 300; seeds 0 1 2
    python pipelines/phantom_difficulty.py --seeds 0 --n-train 30 300 --epochs 30
    python pipelines/phantom_difficulty.py --no-train --figure docs/figures/phantom_examples.png
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from medgan.data.phantom import make_phantom
from medgan.data.prepare import prepare_tensors
from medgan.data.splits import grouped_split


class SmallCNN(nn.Module):
    """4 conv blocks (conv3x3-BN-ReLU-maxpool) -> global average pool -> dropout -> linear."""

    def __init__(self, n_classes: int, width: int = 16) -> None:
        super().__init__()
        chans = [1, width, 2 * width, 4 * width, 8 * width]
        blocks = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            blocks += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.Dropout(0.3), nn.Linear(chans[-1], n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random horizontal/vertical flips and rotations (+-20 deg) with small shifts; background = -1."""
    n = x.shape[0]
    ang = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(20)
    sx = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    sy = torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * 0.08
    cos, sin = torch.cos(ang), torch.sin(ang)
    theta = torch.stack([torch.stack([cos * sx, -sin * sy, shift[:, 0]], 1),
                         torch.stack([sin * sx, cos * sy, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x + 1.0, grid, align_corners=False, padding_mode="zeros") - 1.0


def train_eval(xtr, ytr, xte, yte, n_classes: int, seed: int, epochs: int, min_steps: int, device: str) -> float:
    """Train the small CNN on (xtr, ytr), return accuracy on (xte, yte)."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    model = SmallCNN(n_classes).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    bs = 32
    steps_per_epoch = max(1, math.ceil(len(ytr) / bs))
    steps = max(epochs * steps_per_epoch, min_steps)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps, pct_start=0.15)
    model.train()
    step = 0
    while step < steps:
        perm = torch.randperm(len(ytr), generator=gen)
        for i in range(0, len(ytr), bs):
            idx = perm[i:i + bs]
            xb = augment(xtr[idx], gen).to(device)
            loss = F.cross_entropy(model(xb), ytr[idx].to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            step += 1
            if step >= steps:
                break
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(xte[i:i + 256].to(device)).argmax(1).cpu() for i in range(0, len(yte), 256)])
    return float((pred == yte).float().mean())


def subset_patients(labels: np.ndarray, patients: np.ndarray, pool: np.ndarray, n_per_class: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Indices of whole patients from ``pool`` adding up to about ``n_per_class`` slices per class."""
    chosen = []
    for c in np.unique(labels[pool]):
        pats = np.unique(patients[pool][labels[pool] == c])
        rng.shuffle(pats)
        count = 0
        for p in pats:
            if count >= n_per_class:
                break
            idx = pool[patients[pool] == p]
            chosen.extend(idx.tolist())
            count += len(idx)
    return np.sort(np.asarray(chosen, dtype=np.int64))


def run(seeds, n_trains, n_test: int, epochs: int, min_steps: int, device: str, include_normal: bool) -> dict:
    results: dict = {"n_train": list(n_trains), "seeds": list(seeds), "acc": {str(n): [] for n in n_trains}}
    for seed in seeds:
        t0 = time.time()
        total = max(n_trains) + n_test
        data = make_phantom(n_per_class=total, seed=seed, include_normal=include_normal)
        prep = prepare_tensors(data, image_size=64, window="abdomen")
        x = prep.images.as_tensor() if hasattr(prep.images, "as_tensor") else prep.images
        y = prep.labels
        labels, patients = y.numpy(), np.asarray(prep.patients)
        train_pool, test = grouped_split(labels, patients, test_fraction=n_test / total, seed=seed)
        rng = np.random.default_rng(seed)
        for n in n_trains:
            tr = subset_patients(labels, patients, train_pool, n, rng)
            acc = train_eval(x[tr], y[tr], x[test], y[test], len(prep.class_names), seed, epochs, min_steps, device)
            results["acc"][str(n)].append(acc)
            print(f"seed {seed}  n_train/class {n:4d} ({len(tr)} slices)  test {len(test)} slices  "
                  f"accuracy {acc:.3f}  [{time.time() - t0:.0f}s]", flush=True)
    print("\nsummary (test accuracy, mean +- sd over seeds; chance = "
          f"{1 / len(prep.class_names):.3f}):")
    for n in n_trains:
        a = np.asarray(results["acc"][str(n)])
        print(f"  n_train/class {n:4d}: {a.mean():.3f} +- {a.std():.3f}   per seed {np.round(a, 3).tolist()}")
    return results


def save_figure(path: str, seed: int = 0, per_class: int = 4, roi: int = 0) -> None:
    """Grid of phantom examples per class (incl. ``normal``) in the abdomen window: full 128 x 128
    slices on the left, the same slices as the models see them (64 x 64, ``prepare_tensors``) on the right.
    With ``roi`` > 0: ``2 * per_class`` lesion-centred ROIs per class, as the models see them."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from medgan.data.windows import IntensityWindow
    from medgan.utils.atomic import atomic_path

    n_cols = 2 * per_class
    data = make_phantom(n_per_class=n_cols if roi else per_class, seed=seed, include_normal=True,
                        slices_per_patient=1, roi=roi)
    prep = prepare_tensors(data, image_size=64, window="abdomen")
    win = IntensityWindow.resolve("abdomen", "HU")
    n_cls = len(data.class_names)
    fig, axes = plt.subplots(n_cls, n_cols, figsize=(n_cols * 1.3, n_cls * 1.4))
    for c, name in enumerate(data.class_names):
        idx = np.flatnonzero(data.labels == c)[:n_cols if roi else per_class]
        seen = [np.asarray(prep.images[i, 0]) for i in idx]
        panels = seen if roi else [win.to_unit(data.items[i]["image"]) for i in idx] + seen
        for k, img in enumerate(panels):
            axes[c, k].imshow(img, cmap="gray", vmin=-1, vmax=1, interpolation="nearest")
        axes[c, 0].set_ylabel(name, fontsize=9)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    if roi:
        side = prep.images.shape[-1]
        axes[0, 0].set_title(f"{side} x {side} lesion ROIs (abdomen window)", fontsize=8, loc="left")
    else:
        axes[0, 0].set_title("128 x 128 (HU, abdomen window)", fontsize=8, loc="left")
        axes[0, per_class].set_title("64 x 64 (what the models see)", fontsize=8, loc="left")
    fig.tight_layout(pad=0.3)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=72, format="png")
    plt.close(fig)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--n-train", type=int, nargs="+", default=[30, 100, 300], help="training slices per class")
    p.add_argument("--n-test", type=int, default=100, help="test slices per class")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--min-steps", type=int, default=800, help="at least this many optimiser steps")
    p.add_argument("--include-normal", action="store_true")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", default=None, help="also write the results here")
    p.add_argument("--figure", default=None, help="write a grid of examples per class to this PNG")
    p.add_argument("--no-train", action="store_true", help="only write --figure")
    p.add_argument("--roi", type=int, default=0, help="--figure shows lesion-centred ROIs of this side (phantom roi=)")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    if a.figure:
        save_figure(a.figure, seed=a.seeds[0], roi=a.roi)
    if a.no_train:
        return 0
    res = run(a.seeds, a.n_train, a.n_test, a.epochs, a.min_steps, a.device, a.include_normal)
    if a.json:
        from medgan.utils.atomic import atomic_save_json

        atomic_save_json(a.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

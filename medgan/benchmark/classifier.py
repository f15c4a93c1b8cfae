"""The benchmark classifier: one small MONAI network, trained identically in every arm.

:func:`build_classifier` makes, by default (``arch="resnet"``), a ``monai.networks.nets.ResNet`` with one
basic block per stage, widths ``channels`` (8, 16, 32, 64), a 3x3 stride-1 stem, max-pooling and global
average pooling, sized for 64x64 single-channel slices on a CPU. ``arch="classifier"`` gives the earlier
``monai.networks.nets.Classifier`` (strided residual units, then a linear layer over the flattened map):
it has no global pooling, and on the phantom, whose lesions sit anywhere in the liver, it stayed near
chance (test AUC 0.60 vs 0.82 for the ResNet; docs/benchmark.md). :func:`train_classifier` trains it for a
fixed budget of optimizer steps -- ``epochs`` x (steps of one epoch over the *real* training images),
at least ``min_steps`` -- so arms with extra synthetic images get the same number of updates, not more;
one-cycle learning rate; it keeps the weights with the best inner-validation AUC (evaluated about 20
times per run; validation loss breaks ties) and stops early after ``patience`` evaluations without
improvement. (Validation loss alone picked near-initial weights on 20-image validation splits.) All randomness (init, dropout, shuffling,
augmentation) derives from one seed inside a forked RNG, so arms of one fold start identically and the
global RNG is left untouched.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from monai.networks.nets import Classifier, ResNet
from torch import nn

from medgan.benchmark.augment import ClassicAugment
from medgan.benchmark.metrics import macro_auc
from medgan.errors import ConfigError
from medgan.training.supervised import fit_classifier
from medgan.utils.tensors import plain_tensor


@dataclass
class ClassifierConfig:
    """Classifier architecture and training budget (shared by every arm).

    Args:
        arch: "resnet" (default; MONAI ResNet, global average pooling) or "classifier" (MONAI Classifier).
        channels: widths of the four ResNet stages (``arch="resnet"``: exactly four) or of the strided
            residual units (``arch="classifier"``).
        dropout: dropout probability inside the network (``arch="classifier"`` only).
        epochs: budget in epochs of the real training set (fixed number of steps for all arms).
        min_steps: at least this many steps (tiny training sets need more passes to converge).
        batch_size: images per step.
        lr: peak learning rate of Adam's one-cycle schedule; weight_decay: L2 penalty.
        patience: evaluations without a better validation AUC before stopping (0: run the whole budget and
            keep the best weights -- the default, as 20-image validation AUCs are noisy).
        ensemble: classifiers per arm, each with its own seed; their softmax probabilities are averaged
            (validation and test). More than 1 shrinks the seed-to-seed training noise that every arm
            carries (measured in docs/results/measured.md) at k times the cost.
    """

    arch: str = "resnet"
    channels: tuple[int, ...] = (8, 16, 32, 64)
    dropout: float = 0.2
    epochs: int = 30
    min_steps: int = 600
    batch_size: int = 32
    lr: float = 2e-3
    weight_decay: float = 1e-4
    patience: int = 0
    ensemble: int = 1


ARCHS = ("resnet", "classifier")


@dataclass(frozen=True)
class Recipe:
    """What an arm changes in the classifier's training besides its images.

    Args:
        augment: ``augment(batch, generator) -> batch`` (None: :class:`~medgan.benchmark.augment.ClassicAugment`).
        loss_fn: ``loss(logits, target)`` (None: cross-entropy), e.g. a class-weighted one.
        mix: batch mixing such as MixUp (:func:`medgan.benchmark.controls.mixup`).
        init_state: weights to start from (fine-tuning after pretraining on synthetic images).
    """

    augment: Any = None
    loss_fn: Any = None
    mix: Any = None
    init_state: Any = None


def check_arch(arch: str, channels: Sequence[int]) -> None:
    """Raise :class:`ConfigError` for an unknown ``arch`` or a ResNet without exactly four stage widths."""
    if arch not in ARCHS:
        raise ConfigError(f"unknown classifier arch {arch!r}", f"use one of {ARCHS}")
    if arch == "resnet" and len(channels) != 4:
        raise ConfigError(f"the resnet classifier needs 4 stage widths, got channels={tuple(channels)}",
                          'use e.g. "channels": [8, 16, 32, 64], or "arch": "classifier"')


def build_classifier(n_classes: int, image_size: int, channels: Sequence[int] = (8, 16, 32, 64),
                     dropout: float = 0.2, arch: str = "resnet") -> nn.Module:
    """A MONAI network for (N, 1, S, S) inputs returning (N, n_classes) logits (see :class:`ClassifierConfig`)."""
    check_arch(arch, channels)
    if arch == "resnet":
        return ResNet(block="basic", layers=[1, 1, 1, 1], block_inplanes=[int(c) for c in channels], spatial_dims=2,
                      n_input_channels=1, conv1_t_size=3, conv1_t_stride=1, num_classes=n_classes)

    return Classifier(
        in_shape=(1, image_size, image_size), classes=n_classes, channels=tuple(channels),
        strides=(2,) * len(channels), num_res_units=1, dropout=dropout,
    )


def _fork_devices(device: torch.device) -> list[int]:
    return [device.index or 0] if device.type == "cuda" else []


@torch.no_grad()
def predict_proba(model: nn.Module, images: torch.Tensor, device: torch.device | str = "cpu",
                  batch_size: int = 256) -> np.ndarray:
    """Softmax class probabilities (N, C) as float64 numpy."""
    device, images = torch.device(device), plain_tensor(images)
    model.eval()
    out = [torch.softmax(model(images[i:i + batch_size].to(device)).float(), 1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out).double().numpy() if out else np.zeros((0, 0))


def _val_score(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 256) -> tuple[float, float]:
    """(macro one-vs-rest AUC, mean cross-entropy) on the validation split."""
    logits = torch.cat([model(x[i:i + chunk]).float() for i in range(0, len(y), chunk)])
    loss = float(nn.functional.cross_entropy(logits, y))
    auc = macro_auc(y.cpu().numpy(), torch.softmax(logits, 1).cpu().numpy())
    return (auc if np.isfinite(auc) else 0.5), loss


def budget_steps(n_real: int, config: ClassifierConfig) -> int:
    """Optimizer steps of every arm: ``max(epochs * ceil(n_real / batch), min_steps)``."""
    return max(config.epochs * max(1, math.ceil(n_real / config.batch_size)), config.min_steps)


def train_classifier(
    train_x: torch.Tensor,
    train_y: torch.Tensor,
    n_real: int,
    val_x: torch.Tensor,
    val_y: torch.Tensor,
    n_classes: int,
    config: ClassifierConfig,
    seed: int,
    device: torch.device | str = "cpu",
    recipe: "Recipe | None" = None,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a fresh classifier on ``(train_x, train_y)`` (real and/or synthetic, (N, 1, S, S) in [-1, 1]).

    Args:
        train_x, train_y: the arm's training images and labels.
        n_real: number of real training images (sets the step budget, identical for every arm).
        val_x, val_y: the inner validation split (real images only, never augmented).
        n_classes: number of classes.
        config: the shared :class:`ClassifierConfig`.
        seed: init/dropout/batch/augmentation seed (the same for every arm of a fold).
        device: torch device.
        recipe: what differs between arms beyond the images (:class:`Recipe`; default: classic augmentation).

    The kept weights are those with the best inner-validation macro AUC (ties: lower validation loss),
    evaluated about 20 times per run; training stops after ``patience`` evaluations without improvement.

    Returns ``(model with best-validation weights, info)``; ``info`` has ``steps``, ``evaluations``,
    ``best_step``, ``best_val_auc``, ``best_val_loss``, ``val_history`` and ``seconds``.
    """
    recipe = recipe or Recipe()
    device = torch.device(device)
    t0 = time.perf_counter()
    steps = budget_steps(n_real, config)
    every = max(1, math.ceil(n_real / config.batch_size), steps // 20)
    with torch.random.fork_rng(devices=_fork_devices(device)):
        torch.manual_seed(seed)
        model = build_classifier(n_classes, int(train_x.shape[-1]), config.channels, config.dropout,
                                 config.arch).to(device)
        if device.type == "cpu" and min(config.channels) >= 8:  # channels-last: 53 -> 34 ms per step (1 thread)
            model = model.to(memory_format=torch.channels_last)  # (oneDNN crashed on stages < 8 wide, AVX2 CPU)
        if recipe.init_state is not None:  # fine-tuning (synthetic:pretrain)
            model.load_state_dict(recipe.init_state)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=config.lr, total_steps=steps, pct_start=0.15)
        gen = torch.Generator().manual_seed(seed)
        vx, vy = plain_tensor(val_x).to(device), val_y.long().to(device)
        fit = fit_classifier(model, plain_tensor(train_x).float().to(device), train_y.long().to(device), steps, config.batch_size,
                             opt, gen, augment=recipe.augment or ClassicAugment(), scheduler=sched, eval_every=every,
                             eval_from=steps // 4, loss_fn=recipe.loss_fn, mix=recipe.mix, patience=config.patience,
                             evaluate=(lambda m: _val_score(m, vx, vy)) if len(vy) else (lambda m: (0.5, None)))
    info = {"steps": fit.steps, "evaluations": len(fit.history), "best_step": fit.best_step,
            "best_val_auc": fit.best[0], "best_val_loss": fit.best[1], "val_history": fit.history,
            "seconds": time.perf_counter() - t0}
    return model, info

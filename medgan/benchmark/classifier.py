"""The benchmark classifier: one small MONAI network, trained identically in every arm.

:func:`build_classifier` makes a ``monai.networks.nets.Classifier`` (residual conv units, strided
down-sampling) sized for 64x64 single-channel slices on a CPU. :func:`train_classifier` trains it for a
fixed budget of optimizer steps -- ``epochs`` x (steps of one epoch over the *real* training images) --
so arms with extra synthetic images get the same number of updates, not more; it early-stops on the
inner validation loss and restores the best weights. All randomness (init, dropout, shuffling,
augmentation) derives from one seed inside a forked RNG, so arms of one fold start identically and the
global RNG is left untouched.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn


@dataclass
class ClassifierConfig:
    """Classifier architecture and training budget (shared by every arm).

    Args:
        channels: output channels of the strided residual blocks.
        dropout: dropout probability inside the network.
        epochs: budget in epochs of the real training set (fixed number of steps for all arms).
        batch_size: images per step.
        lr: Adam learning rate; weight_decay: L2 penalty.
        patience: epochs without a better validation loss before stopping (0 disables early stopping).
    """

    channels: tuple[int, ...] = (16, 32, 64, 128)
    dropout: float = 0.2
    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 1e-4
    patience: int = 8


def build_classifier(n_classes: int, image_size: int, channels: Sequence[int] = (16, 32, 64, 128),
                     dropout: float = 0.2) -> nn.Module:
    """A ``monai.networks.nets.Classifier`` for (N, 1, S, S) inputs returning (N, n_classes) logits."""
    from monai.networks.nets import Classifier

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
    device = torch.device(device)
    model.eval()
    out = [torch.softmax(model(images[i:i + batch_size].to(device)).float(), 1).cpu() for i in range(0, len(images), batch_size)]
    return torch.cat(out).double().numpy() if out else np.zeros((0, 0))


def _chunked_loss(model: nn.Module, x: torch.Tensor, y: torch.Tensor, chunk: int = 256) -> float:
    total = sum(float(nn.functional.cross_entropy(model(x[i:i + chunk]), y[i:i + chunk], reduction="sum"))
                for i in range(0, len(y), chunk))
    return total / len(y)


def train_classifier(
    train_ds: torch.utils.data.Dataset,
    n_real: int,
    val_images: torch.Tensor,
    val_labels: torch.Tensor,
    n_classes: int,
    image_size: int,
    config: ClassifierConfig,
    seed: int,
    device: torch.device | str = "cpu",
) -> tuple[nn.Module, dict[str, Any]]:
    """Train a fresh classifier on ``train_ds`` (items ``{"image", "label"}``, augmented by its transform).

    Args:
        train_ds: the arm's training dataset (real and/or synthetic items).
        n_real: number of real training images; one "epoch" of the budget is ``ceil(n_real / batch)`` steps.
        val_images, val_labels: the inner validation split (real images only, never augmented).
        n_classes, image_size: network shape.
        config: the shared :class:`ClassifierConfig`.
        seed: init/dropout/shuffle/augmentation seed (the same for every arm of a fold).
        device: torch device.

    Returns ``(model with best-validation weights, info)``; ``info`` has ``steps``, ``epochs_run``,
    ``best_epoch``, ``best_val_loss``, ``val_loss`` (per epoch) and ``seconds``.
    """
    from monai.data import DataLoader

    device = torch.device(device)
    t0 = time.perf_counter()
    steps_per_epoch = max(1, math.ceil(n_real / config.batch_size))
    with torch.random.fork_rng(devices=_fork_devices(device)):
        torch.manual_seed(seed)
        model = build_classifier(n_classes, image_size, config.channels, config.dropout).to(device)
        opt = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
        gen = torch.Generator().manual_seed(seed)
        loader = DataLoader(train_ds, batch_size=min(config.batch_size, len(train_ds)), shuffle=True,
                            drop_last=len(train_ds) > config.batch_size, num_workers=0, generator=gen)
        loss_fn = nn.CrossEntropyLoss()
        val_x, val_y = val_images.to(device), val_labels.to(device)
        best = (math.inf, -1, copy.deepcopy(model.state_dict()))
        history: list[float] = []
        batches = iter(loader)
        step = 0
        for epoch in range(config.epochs):
            model.train()
            for _ in range(steps_per_epoch):
                try:
                    batch = next(batches)
                except StopIteration:
                    batches = iter(loader)
                    batch = next(batches)
                x = torch.as_tensor(batch["image"]).float().to(device)
                y = torch.as_tensor(batch["label"]).long().view(-1).to(device)
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                step += 1
            model.eval()
            with torch.no_grad():
                val_loss = _chunked_loss(model, val_x, val_y) if len(val_y) else float(loss)
            history.append(val_loss)
            if val_loss < best[0] - 1e-6:
                best = (val_loss, epoch, copy.deepcopy(model.state_dict()))
            elif config.patience and epoch - best[1] >= config.patience:
                break
        model.load_state_dict(best[2])
    info = {"steps": step, "epochs_run": len(history), "best_epoch": best[1] + 1, "best_val_loss": best[0],
            "val_loss": history, "seconds": time.perf_counter() - t0}
    return model, info

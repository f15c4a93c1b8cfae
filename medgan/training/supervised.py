"""The one supervised training loop of medgan: every classifier it trains (quality features, TSTR and
real-trained scorers, the benchmark's arms) runs through :func:`fit_classifier`.

Batches come from a permutation drawn from one ``torch.Generator`` (a new permutation when fewer than a
batch remain), augmentation draws from the same generator, so a run is reproducible from its seed. With an
``evaluate`` callback the loop keeps the weights of the best evaluation (higher score, then lower loss)
and can stop early after ``patience`` evaluations without improvement.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

__all__ = ["FitResult", "fit_classifier", "random_flip"]

Augment = Callable[[torch.Tensor, torch.Generator], torch.Tensor]
#: ``mix(x, y, generator) -> (x, target)``: batch-level mixing (MixUp); ``target`` feeds the loss.
Mix = Callable[[torch.Tensor, torch.Tensor, torch.Generator], tuple[torch.Tensor, torch.Tensor]]


@dataclass
class FitResult:
    """What :func:`fit_classifier` did: steps run, the kept evaluation and every evaluation ``(score, loss)``."""

    steps: int
    best_step: int = 0
    best: tuple[float, float] = (-math.inf, math.inf)
    history: list[tuple[float, float]] = field(default_factory=list)


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Left-right flip of each image with probability 1/2."""
    flip = torch.rand(x.shape[0], generator=generator) < 0.5
    return torch.where(flip.to(x.device).view(-1, 1, 1, 1), x.flip(-1), x)


def fit_classifier(
    model: nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    steps: int,
    batch_size: int,
    optimizer: torch.optim.Optimizer,
    generator: torch.Generator,
    augment: Augment | None = None,
    scheduler: Any = None,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
    evaluate: Callable[[nn.Module], tuple[float, float | None]] | None = None,
    eval_every: int = 0,
    eval_from: int = 0,
    patience: int = 0,
    mix: Mix | None = None,
) -> FitResult:
    """Train ``model`` on ``(images, labels)`` (already on the model's device) for ``steps`` optimizer steps.

    Args:
        model, optimizer, scheduler: the network, its optimizer and an optional per-step LR scheduler.
        images, labels: training tensors; ``batch_size`` is capped at their count.
        generator: the one source of batch order and augmentation randomness.
        augment: ``augment(x, generator) -> x`` applied to every batch (None: no augmentation).
        loss_fn: ``loss(logits, target)``; default cross-entropy (soft targets allowed).
        evaluate: ``evaluate(model) -> (score, loss)`` (loss None: the batch's training loss) run in eval mode every ``eval_every`` steps from step
            ``eval_from`` on, and at the last step; the best weights are restored at the end.
        patience: stop after this many evaluations without a better score (0: run every step).
        mix: optional batch mixing after augmentation (e.g. MixUp), producing the loss target.

    Returns a :class:`FitResult`; ``model`` is left in eval mode.
    """
    loss_fn = loss_fn or nn.functional.cross_entropy
    n = int(labels.shape[0])
    bs = max(1, min(int(batch_size), n))
    result = FitResult(steps=0)
    kept = copy.deepcopy(model.state_dict()) if evaluate is not None else None
    perm, pos = torch.randperm(n, generator=generator), 0
    model.train()
    while result.steps < steps:
        if pos + bs > n:
            perm, pos = torch.randperm(n, generator=generator), 0
        idx = perm[pos:pos + bs].to(images.device)
        pos += bs
        x = augment(images[idx], generator) if augment is not None else images[idx]
        target = labels[idx]
        if mix is not None:
            x, target = mix(x, target, generator)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), target)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        result.steps += 1
        step = result.steps
        if evaluate is not None and ((eval_every and step % eval_every == 0 and step >= eval_from) or step == steps):
            kept = _evaluate(model, evaluate, result, kept, float(loss.detach()))
            if patience and eval_every and step - result.best_step >= patience * eval_every:
                break
    if kept is not None:
        model.load_state_dict(kept)
    model.eval()
    return result


def _evaluate(model: nn.Module, evaluate: Callable[[nn.Module], tuple[float, float | None]], result: FitResult,
              kept: dict[str, Any] | None, train_loss: float) -> dict[str, Any] | None:
    """One evaluation: record it, and return a copy of the weights when they are the best so far."""
    model.eval()
    with torch.no_grad():
        score, loss = evaluate(model)
    model.train()
    loss = train_loss if loss is None else float(loss)
    result.history.append((score, loss))
    if (score, -loss) > (result.best[0], -result.best[1]):
        result.best, result.best_step = (score, loss), result.steps
        return copy.deepcopy(model.state_dict())
    return kept

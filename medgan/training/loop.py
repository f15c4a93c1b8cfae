"""``train()``: run directory, holdout split, resume, logging, samples, checkpoints, export, guards."""
from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm

from medgan._version import __version__
from medgan.data.splits import grouped_split
from medgan.errors import CheckpointError, ConfigError, DataError, TrainingDivergedError
from medgan.training.checkpoint import check_resumable, load_checkpoint, save_checkpoint
from medgan.training.config import TrainConfig
from medgan.training.distributed import barrier, init_distributed
from medgan.training.export import write_generator_export
from medgan.training.logs import CsvLog, save_grid
from medgan.training.trainer import Trainer
from medgan.utils import atomic_save_json
from medgan.utils.device import resolve_device
from medgan.utils.lock import output_lock
from medgan.utils.seeding import derive_training_seed

SAMPLES_PER_CLASS = 8
COLLAPSE_LOSS = 1e-4


def check_data(config: TrainConfig, data: Any) -> None:
    """Refuse data the GAN cannot train on, with a clear fix."""
    if len(data) == 0:
        raise DataError("no training images", "check --data")
    if data.image_size != config.image_size:
        raise ConfigError(f"the prepared images are {data.image_size}x{data.image_size} but image_size={config.image_size}",
                          "prepare the data with the same --image-size")
    if not torch.isfinite(data.images).all():
        raise DataError("the training images contain NaN/inf values", "fix or drop the corrupt images")
    labels = torch.as_tensor(data.labels)
    if labels.min() < 0 or labels.max() >= len(data.class_names):
        raise DataError("labels outside [0, number of classes)", "check the class names / labels of --data")


def split_holdout(config: TrainConfig, data: Any) -> tuple[Any, list[str], list[str]]:
    """Patient-grouped holdout (kept out of training): (train data, train patients, holdout patients)."""
    if config.holdout_fraction <= 0:
        return data, sorted(set(map(str, data.patients))), []

    train_idx, hold_idx = grouped_split(torch.as_tensor(data.labels).numpy(), list(map(str, data.patients)),
                                        config.holdout_fraction, config.seed, class_names=data.class_names)
    train = data.subset(train_idx)
    return train, sorted(set(map(str, train.patients))), sorted({str(data.patients[int(i)]) for i in hold_idx})


def fixed_noise(config: TrainConfig, num_classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The same z for every sample grid: SAMPLES_PER_CLASS per class, laid out class by class."""
    g = torch.Generator().manual_seed(derive_training_seed(config.seed, 99))
    z = torch.randn(num_classes * SAMPLES_PER_CLASS, config.latent_dim, generator=g)
    y = torch.arange(num_classes).repeat_interleave(SAMPLES_PER_CLASS)
    return z, y


def _progress(total: int, initial: int, enabled: bool):
    return tqdm(total=total, initial=initial, disable=not enabled, unit="step", dynamic_ncols=True, desc="train")


def train(config: TrainConfig, data: Any, out_dir: str | os.PathLike, resume: bool = False,
          progress: bool = True) -> Path:
    """Train a GAN on ``data`` (a PreparedData) and write the run directory ``out_dir``.

    Writes ``config.json`` (before training), ``log.csv``, ``samples/step_XXXXXX.png``,
    ``checkpoints/last.pt`` and the generator export (``generator.safetensors`` + ``generator.json``)
    at every checkpoint and at the end. Under ``torchrun`` only rank 0 writes.

    Args:
        config: training options.
        data: :class:`medgan.data.types.PreparedData`.
        out_dir: run directory.
        resume: continue from ``out_dir/checkpoints/last.pt`` (same options and data required).
        progress: show a tqdm bar.

    Returns:
        ``out_dir`` as a Path.

    Raises:
        TrainingDivergedError: NaN/inf losses or a collapsed D; the last good checkpoint is kept.
        CheckpointError: resume requested without / with an incompatible checkpoint.
        ConfigError: ``out_dir`` is in use by another process (``out_dir/.lock``, held by rank 0 for the run).
    """
    out = Path(out_dir)
    main = int(os.environ.get("RANK", "0")) == 0
    with output_lock(out, "--out") if main else contextlib.nullcontext():
        return _train(config, data, out, resume, progress)


def _train(config: TrainConfig, data: Any, out: Path, resume: bool, progress: bool) -> Path:
    ckpt_path = out / "checkpoints" / "last.pt"
    device = resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    info = init_distributed(device)
    if config.num_threads > 0:
        torch.set_num_threads(config.num_threads)
    check_data(config, data)
    fingerprint = data.fingerprint()
    state = None
    if resume:
        state = load_checkpoint(ckpt_path)
        check_resumable(state, config.to_dict(), fingerprint, ckpt_path)
    elif ckpt_path.exists():
        raise ConfigError(f"{out} already holds a training run", "pass --resume to continue it, or choose a new --out")
    train_data, train_patients, holdout_patients = split_holdout(config, data)
    if info.is_main:
        out.mkdir(parents=True, exist_ok=True)
        atomic_save_json(out / "config.json", {**config.to_dict(), "class_names": list(data.class_names)})
    trainer = Trainer(config, train_data.images, torch.as_tensor(train_data.labels), len(data.class_names), device, info)
    if state is not None:
        _load_trainer_state(trainer, state, ckpt_path)
    window = data.window.to_dict() if hasattr(data.window, "to_dict") else dict(data.window)
    shared = {"class_names": list(data.class_names), "window": window, "data_fingerprint": fingerprint,
              "holdout_patients": holdout_patients, "train_patients": train_patients, "medgan_version": __version__}
    meta = {"model": config.model, "arch": config.generator_arch(len(data.class_names)), "latent_dim": config.latent_dim,
            "image_size": config.image_size, "train_fingerprint": train_data.fingerprint(), **shared}
    if config.info_codes:
        meta["info_codes"] = int(config.info_codes)
    writer = _RunWriter(out, config, trainer, info, meta, {"config": config.to_dict(), **shared},
                        *fixed_noise(config, len(data.class_names)))
    log = CsvLog(out / "log.csv", resume_step=trainer.step if resume else None) if info.is_main else None
    _run_steps(config, trainer, writer, log, _progress(config.steps, trainer.step, progress and info.is_main))
    writer.samples()
    writer.checkpoint()
    return out


@dataclass
class _RunWriter:
    """Writes a run's sample grids, checkpoint and generator export (rank 0 only)."""

    out: Path
    config: TrainConfig
    trainer: Trainer
    info: Any
    meta: dict[str, Any]
    checkpoint_extra: dict[str, Any]
    z_fixed: torch.Tensor
    y_fixed: torch.Tensor

    @property
    def checkpoint_path(self) -> Path:
        return self.out / "checkpoints" / "last.pt"

    def checkpoint(self) -> None:
        if self.info.is_main:
            save_checkpoint(self.checkpoint_path, {**self.trainer.state_dict(), **self.checkpoint_extra})
            write_generator_export(self.out, self.trainer.sampling_generator, {**self.meta, "step": self.trainer.step})
        barrier(self.info)

    def samples(self) -> None:
        if self.info.is_main:
            save_grid(self.out / "samples" / f"step_{self.trainer.step:06d}.png",
                      self.trainer.sample(self.z_fixed, self.y_fixed), SAMPLES_PER_CLASS)


def _run_steps(config: TrainConfig, trainer: Trainer, writer: _RunWriter, log: CsvLog | None, bar: Any) -> None:
    """Train until ``config.steps``: health checks, log rows, sample grids and checkpoints on their schedules."""
    low_streak, t0, t_last, n_last = 0, time.perf_counter(), time.perf_counter(), trainer.step
    imgs_per_step = config.batch_size * config.d_steps * writer.info.world_size
    try:
        while trainer.step < config.steps:
            metrics = trainer.train_step()
            step = trainer.step
            low_streak = _check_health(config, metrics, step, low_streak, writer.checkpoint_path)
            if step % max(config.log_every, 1) == 0 or step == config.steps:
                now = time.perf_counter()
                rate = (step - n_last) * imgs_per_step / max(now - t_last, 1e-9)
                t_last, n_last = now, step
                if log is not None:
                    log.append({"step": step, **metrics, "img_per_s": rate, "elapsed_s": now - t0})
                bar.set_postfix(d=f"{metrics['d_loss']:.3f}", g=f"{metrics['g_loss']:.3f}",
                                Dr=f"{metrics['d_real']:.2f}", Df=f"{metrics['d_fake']:.2f}", ips=f"{rate:.0f}")
            bar.update(1)
            if config.sample_every and step % config.sample_every == 0:
                writer.samples()
            if config.checkpoint_every and step % config.checkpoint_every == 0 and step < config.steps:
                writer.checkpoint()
    finally:
        bar.close()


def _check_health(config: TrainConfig, metrics: dict[str, float], step: int, low_streak: int, ckpt_path: Path) -> int:
    """Raise TrainingDivergedError on non-finite losses or a collapsed D; returns the updated low-D-loss streak."""
    if not Trainer.finite(metrics):
        raise TrainingDivergedError(
            f"training diverged at step {step}: non-finite loss ({_fmt(metrics)}); "
            f"the last good checkpoint {ckpt_path} is kept",
            "lower --lr (lr_g/lr_d), set r1_gamma > 0 or spectral_norm=true in --config, then start again "
            "(or --resume from the kept checkpoint)")
    low_streak = low_streak + 1 if (config.loss != "wgan-gp" and metrics["d_loss"] < COLLAPSE_LOSS) else 0
    if config.collapse_patience and low_streak >= config.collapse_patience:
        raise TrainingDivergedError(
            f"discriminator collapse at step {step}: D loss < {COLLAPSE_LOSS} for {low_streak} steps "
            f"(D wins outright, G gets no gradient); the last good checkpoint {ckpt_path} is kept",
            "use more DiffAugment (translation,cutout), r1_gamma (e.g. 1.0), a lower lr_d, or fewer steps")
    return low_streak


def _load_trainer_state(trainer: Trainer, state: dict[str, Any], path: Path) -> None:
    """Restore a checkpoint into ``trainer``; CheckpointError when its tensors do not fit the architecture."""
    try:
        trainer.load_state_dict(state)
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        raise CheckpointError(f"cannot resume {path}: its weights do not fit the configured architecture "
                              f"({type(exc).__name__}: {str(exc).strip().splitlines()[0][:300]})",
                              "start a fresh run in a new --out, or resume with the architecture the checkpoint "
                              "was trained with (see RUN/config.json)") from None


def _fmt(metrics: dict[str, float]) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in metrics.items())

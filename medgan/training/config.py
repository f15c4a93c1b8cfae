"""TrainConfig: every training option, written to ``RUN/config.json`` before training starts.

Fields left at ``None`` take the recipe default of the chosen model (:data:`MODEL_DEFAULTS`) when the
config is created, so ``config.json`` always records the values actually used.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from medgan.errors import ConfigError
from medgan.models.diffaugment import parse_policy
from medgan.models.losses import check_loss
from medgan.models.registry import MODELS
from medgan.training.precision import bf16_is_fast
from medgan.utils.config import reject_unknown_keys
from medgan.utils.device import resolve_device

#: Recipe defaults per model. dcgan: Radford/Frid-Adar (BN + LeakyReLU D, non-saturating loss,
#: Adam 2e-4 beta1 0.5, z=100); cgan: hinge + spectral norm + projection D + TTUR 1e-4/4e-4 + Adam(0, 0.999).
#: Both: EMA of G, DiffAugment translation+cutout (the small-data ingredients; see docs/training.md).
#: cgan also: the MSGAN mode-seeking term at weight 0.05 (without it the phantom GANs collapsed to one image).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {"latent_dim": 100, "loss": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999),
              "spectral_norm": False, "d_norm": "batch", "diffaugment": "translation,cutout", "mbstd": True,
              "mode_seeking": 0.0},
    "cgan": {"latent_dim": 128, "loss": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "betas": (0.0, 0.999),
             "spectral_norm": True, "d_norm": "none", "diffaugment": "translation,cutout", "mbstd": True,
             "mode_seeking": 0.05},
    "fastgan": {"latent_dim": 128, "loss": "hinge", "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999),
                "spectral_norm": True, "d_norm": "none", "diffaugment": "translation,cutout", "mbstd": True,
                "mode_seeking": 0.05},
}
#: fastgan: Liu et al. 2021's Adam(2e-4, beta1 0.5), hinge loss and DiffAugment; its self-supervised
#: reconstruction loss on D has weight ``recon_weight`` (1 by default).


@dataclass
class TrainConfig:
    """Options of one GAN training run (JSON round trip: :meth:`to_dict` / :meth:`from_dict`).

    Args:
        model: "cgan" (one conditional G + projection D), "dcgan" (one DCGAN per class) or "fastgan"
            (skip-layer-excitation G + projection D with a self-supervised reconstruction decoder).
        image_size: 64 (default) or 128; must equal the prepared data's size.
        steps: number of G updates.
        batch_size: images per D/G step (per process under torchrun).
        seed: seeds weights, noise, batches and augmentation (no global RNG).
        latent_dim, ngf, ndf: architecture sizes (ngf/ndf: channels of the widest-resolution stage).
        loss: "nonsaturating" | "hinge" | "wgan-gp".
        lr_g, lr_d, betas: Adam settings for G and D (TTUR when lr_d > lr_g).
        diffaugment: DiffAugment policy applied to real and fake before D ("" = off).
        spectral_norm: spectral normalisation in D.  d_norm: "batch" | "none" normalisation in D.
        r1_gamma: R1 penalty weight on real images (0 = off).  gp_weight: WGAN-GP lambda.
        d_steps: D updates per G update.
        ac_weight: > 0 adds an auxiliary classifier head to the cgan D (AC-GAN loss weight).
        mode_seeking: weight of the mode-seeking term (Mao et al. 2019, MSGAN) in G's loss: for pairs of
            fakes of the same class, ``1 / (mean|G(z1)-G(z2)| / mean|z1-z2| + eps)``; 0 = off.
        recon_weight: weight of the fastgan discriminator's real-image reconstruction loss (fastgan only).
        info_codes: InfoGAN (Chen et al. 2016) on the cgan: the last ``info_codes`` entries of z are
            continuous codes drawn from U(-1, 1), and a head on D predicts them from the fake image;
            ``info_weight`` weighs that mutual-information term (MSE, i.e. a fixed-variance Gaussian Q)
            in both G's and D's loss. 0 = off. The sampler draws and sets the codes (``codes=``).
        lecam_weight: weight of the LeCam regularizer on D (Tseng et al. 2021; 0 = off; 0.3 in the paper's
            BigGAN + DiffAugment runs). lecam_decay: decay of its moving averages of D's outputs.
        transition: ``(start, end)`` fractions of ``steps`` over which class conditioning is phased in
            (Shahbazi et al. ICLR 2022, "collapse by conditioning"): unconditional before ``start``,
            fully conditional from ``end`` on; None = conditional from the first step. cgan only.
        ema_decay: decay of the EMA of G's weights (used for samples and export); 0 = no EMA.
        balanced: draw class-balanced batches (each class equally often).
        mbstd: minibatch-standard-deviation feature in D (counters mode collapse on small data).
        holdout_fraction: patient-grouped fraction kept out of training for evaluation (0 = none).
        sample_every, checkpoint_every, log_every: in steps (0 = only at the end).
        collapse_patience: stop with TrainingDivergedError after this many consecutive steps with
            D loss < 1e-4 (a collapsed game; not used for wgan-gp); 0 = off.
        device: "auto" (CUDA if present), "cpu", "cuda", "cuda:1" ...
        amp: bfloat16 autocast for the forward passes: True, False, or "auto" (on where bfloat16 is
            fast: a bf16-capable GPU, or a CPU with avx512_bf16 / amx_bf16; resolved to a bool here).
        num_threads: CPU threads for torch (0 = leave torch's default).
        channels_last: channels-last memory format (faster convolutions on CPU).
    """

    model: str = "cgan"
    image_size: int = 64
    steps: int = 3000
    batch_size: int = 32
    seed: int = 0
    latent_dim: int | None = None
    ngf: int = 32
    ndf: int = 32
    loss: str | None = None
    lr_g: float | None = None
    lr_d: float | None = None
    betas: tuple[float, float] | None = None
    diffaugment: str | None = None
    spectral_norm: bool | None = None
    d_norm: str | None = None
    r1_gamma: float = 0.0
    gp_weight: float = 10.0
    d_steps: int = 1
    ac_weight: float = 0.0
    mode_seeking: float | None = None
    lecam_weight: float = 0.0
    recon_weight: float = 1.0
    info_codes: int = 0
    info_weight: float = 1.0
    lecam_decay: float = 0.99
    transition: tuple[float, float] | None = None
    ema_decay: float = 0.999
    balanced: bool = True
    mbstd: bool | None = None
    holdout_fraction: float = 0.15
    sample_every: int = 500
    checkpoint_every: int = 500
    log_every: int = 10
    collapse_patience: int = 200
    device: str = "auto"
    amp: bool | str = False
    num_threads: int = 0
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}", f"use one of: {', '.join(MODELS)}")
        for key, value in MODEL_DEFAULTS[self.model].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.betas = (float(self.betas[0]), float(self.betas[1]))
        self.amp = _resolve_amp(self.amp, self.device)
        check_loss(self.loss)
        self.diffaugment = ",".join(parse_policy(self.diffaugment))
        checks = [
            (self.image_size in (16, 32, 64, 128, 256), "image_size", "use 64 or 128"),
            (self.steps >= 1, "steps", "use >= 1"),
            (self.batch_size >= 2, "batch_size", "use >= 2 (e.g. 32)"),
            (self.latent_dim >= 1 and self.ngf >= 1 and self.ndf >= 1, "latent_dim/ngf/ndf", "use positive sizes"),
            (self.lr_g > 0 and self.lr_d > 0, "lr_g/lr_d", "use positive learning rates"),
            (0.0 <= self.ema_decay < 1.0, "ema_decay", "use 0 (off) or e.g. 0.999"),
            (0.0 <= self.holdout_fraction < 1.0, "holdout_fraction", "use 0 (none) .. 0.5, default 0.15"),
            (self.d_steps >= 1, "d_steps", "use >= 1"),
            (self.r1_gamma >= 0 and self.ac_weight >= 0 and self.gp_weight >= 0 and self.mode_seeking >= 0,
             "r1_gamma/ac_weight/gp_weight/mode_seeking", "use >= 0"),
            (self.d_norm in ("batch", "none"), "d_norm", "use 'batch' or 'none'"),
            (not (self.ac_weight > 0 and self.model != "cgan"), "ac_weight", "the AC head exists only for --model cgan"),
            (min(self.sample_every, self.checkpoint_every, self.log_every, self.collapse_patience) >= 0,
             "sample_every/checkpoint_every/log_every/collapse_patience", "use >= 0"),
        ]
        checks += self._regularizer_checks()
        for ok, name, hint in checks:
            if not ok:
                raise ConfigError(f"invalid training option {name} in {self.to_dict()}", hint)

    def _regularizer_checks(self) -> list[tuple[bool, str, str]]:
        if self.transition is not None:
            self.transition = (float(self.transition[0]), float(self.transition[1]))
        start, end = self.transition or (0.0, 0.0)
        return [
            (self.lecam_weight >= 0, "lecam_weight", "use 0 (off) or e.g. 0.3"),
            (0.0 <= self.lecam_decay < 1.0, "lecam_decay", "use e.g. 0.99"),
            (self.transition is None or 0.0 <= start <= end <= 1.0, "transition",
             "use [start, end] fractions of the steps with 0 <= start <= end <= 1, e.g. [0.1, 0.5]"),
            (self.transition is None or self.model in ("cgan", "fastgan"), "transition",
             "transitional conditioning needs a conditional model: --model cgan or fastgan"),
            (0 <= self.info_codes < self.latent_dim, "info_codes", "use 0 (off) .. latent_dim - 1, e.g. 3"),
            (self.info_codes == 0 or (self.model == "cgan" and self.ac_weight == 0), "info_codes",
             "InfoGAN codes need --model cgan without the AC head (ac_weight 0)"),
            (self.info_weight >= 0, "info_weight", "use >= 0, e.g. 1"),
            (self.recon_weight >= 0, "recon_weight", "use >= 0 (fastgan's reconstruction loss weight, default 1)"),
        ]

    def condition_strength(self, step: int) -> float:
        """How much class labels steer G and D at ``step`` (0..1; always 1 without ``transition``)."""
        if self.transition is None:
            return 1.0
        start, end = (f * self.steps for f in self.transition)
        if step >= end:
            return 1.0
        return 0.0 if step < start else (step - start) / max(end - start, 1e-9)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        d = asdict(self)
        d["betas"] = list(d["betas"]) if d["betas"] is not None else None
        d["transition"] = list(d["transition"]) if d["transition"] is not None else None
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        """Build from a dict (e.g. parsed JSON); unknown keys raise ConfigError."""
        reject_unknown_keys(d, cls, "training option(s)")
        d = dict(d)
        for key in ("betas", "transition"):
            if d.get(key) is not None:
                d[key] = tuple(d[key])
        return cls(**d)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "TrainConfig":
        """Read a JSON config file (ConfigError if unreadable)."""
        try:
            return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read training config {path}: {exc}", "pass a JSON object of TrainConfig fields") from None

    def generator_arch(self, num_classes: int) -> dict[str, Any]:
        """``build_generator`` keyword arguments (recorded in generator.json)."""
        return {"num_classes": int(num_classes), "latent_dim": int(self.latent_dim), "image_size": int(self.image_size),
                "ngf": int(self.ngf)}

    def discriminator_arch(self, num_classes: int) -> dict[str, Any]:
        """``build_discriminator`` keyword arguments."""
        arch = {"num_classes": int(num_classes), "image_size": int(self.image_size), "ndf": int(self.ndf),
                "norm": self.d_norm, "spectral_norm": bool(self.spectral_norm), "mbstd": bool(self.mbstd)}
        if self.model == "cgan":
            arch["ac_head"] = self.ac_weight > 0
            if self.info_codes:
                arch["n_codes"] = int(self.info_codes)
        if self.model == "fastgan":
            arch.pop("norm")
        return arch


def _resolve_amp(amp: bool | str, device: str) -> bool:
    """``True``/``False`` unchanged; ``"auto"`` -> whether bfloat16 is fast on ``device``."""
    if isinstance(amp, bool):
        return amp
    if isinstance(amp, str) and amp.strip().lower() == "auto":
        return bf16_is_fast(resolve_device(str(device)).type)
    raise ConfigError(f"invalid training option amp={amp!r}", 'use true, false or "auto"')

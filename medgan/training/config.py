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
from medgan.utils.config import check_field_types, reject_unknown_keys
from medgan.utils.device import resolve_device

#: Recipe defaults per model. dcgan: Radford/Frid-Adar (BN + LeakyReLU D, non-saturating loss,
#: Adam 2e-4 beta1 0.5, z=100); cgan: hinge + spectral norm + projection D + TTUR 1e-4/4e-4 + Adam(0, 0.999).
#: Both: EMA of G, DiffAugment translation+cutout (the small-data ingredients; see docs/training.md).
#: cgan also: the MSGAN mode-seeking term at weight 0.05 (without it the phantom GANs collapsed to one image).
MODEL_DEFAULTS: dict[str, dict[str, Any]] = {
    "dcgan": {"latent_dim": 100, "loss": "nonsaturating", "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999),
              "spectral_norm": False, "d_norm": "batch", "diffaugment": "translation,cutout", "mbstd": True,
              "mode_seeking": 0.0, "ngf": 32, "steps": 3000},
    "cgan": {"latent_dim": 128, "loss": "hinge", "lr_g": 1e-4, "lr_d": 4e-4, "betas": (0.0, 0.999),
             "spectral_norm": True, "d_norm": "none", "diffaugment": "translation,cutout", "mbstd": True,
             "mode_seeking": 0.05, "ngf": 32, "steps": 3000},
    "fastgan": {"latent_dim": 128, "loss": "hinge", "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999),
                "spectral_norm": True, "d_norm": "none", "diffaugment": "translation,cutout", "mbstd": True,
                "mode_seeking": 0.05, "ngf": 8, "steps": 1800},
}
#: fastgan: Liu et al. 2021's Adam(2e-4, beta1 0.5), hinge loss and DiffAugment; its self-supervised
#: reconstruction loss on D has weight ``recon_weight`` (1 by default). Its ngf 8 and 1800 steps cost about
#: what the cgan's 32 and 3000 do on a CPU (its GLU up-blocks are ~1.6x as dear per channel); at that equal
#: CPU it led the cgan on TSTR ratio and recall on ROIs and head CT (docs/results/ablation.md), so it is the
#: default model.


@dataclass
class TrainConfig:
    """Options of one GAN training run (JSON round trip: :meth:`to_dict` / :meth:`from_dict`).

    Args:
        model: "fastgan" (default: skip-layer-excitation G + projection D with a self-supervised
            reconstruction decoder; the equal-CPU ablation's winner), "cgan" (one conditional G +
            projection D) or "dcgan" (one DCGAN per class).
        image_size: 64 (default) or 128; must equal the prepared data's size.
        steps: number of G updates (None: the model's default, 1800 for fastgan, 3000 otherwise).
        batch_size: images per D/G step (per process under torchrun).
        seed: seeds weights, noise, batches and augmentation (no global RNG).
        latent_dim, ngf, ndf: architecture sizes (ngf/ndf: channels of the widest-resolution stage;
            ngf None: the model's default, 8 for fastgan, 32 otherwise).
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
            fully conditional from ``end`` on; None = conditional from the first step. cgan and fastgan only.
        ema_decay: decay of the EMA of G's weights (used for samples and export); 0 = no EMA.
        balanced: draw class-balanced batches (each class equally often).
        mbstd: minibatch-standard-deviation feature in D (counters mode collapse on small data).
        holdout_fraction: patient-grouped fraction kept out of training for evaluation (0 = none).
        sample_every, checkpoint_every, log_every: in steps (0 = only at the end).
        collapse_patience: stop with TrainingDivergedError after this many consecutive steps with
            D loss < 1e-4 (a collapsed game; not used for wgan-gp); 0 = off.
        device: "auto" (CUDA if present), "cpu", "cuda", "cuda:1" ...
        amp: bfloat16 autocast for the forward passes: "auto" (default: on where bfloat16 is fast -- a
            bf16-capable GPU, or a CPU with avx512_bf16 / amx_bf16 -- and off elsewhere; resolved to a bool
            here and recorded so), True or False. On an AMX CPU it cut fastgan's CPU time 1.7x at the same
            quality (docs/training.md, "bfloat16 and sample quality").
        num_threads: CPU threads for torch (0 = leave torch's default).
        channels_last: channels-last memory format (faster convolutions on CPU).
    """

    model: str = "fastgan"
    image_size: int = 64
    steps: int | None = None
    batch_size: int = 32
    seed: int = 0
    latent_dim: int | None = None
    ngf: int | None = None
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
    amp: bool | str = "auto"
    num_threads: int = 0
    channels_last: bool = True

    def __post_init__(self) -> None:
        check_field_types(self, "training option")
        if self.model not in MODELS:
            raise ConfigError(f"unknown model {self.model!r}", f"use one of: {', '.join(MODELS)}")
        for key, value in MODEL_DEFAULTS[self.model].items():
            if getattr(self, key) is None:
                setattr(self, key, value)
        self.betas = (float(self.betas[0]), float(self.betas[1]))
        self.amp = _resolve_amp(self.amp, self.device)
        check_loss(self.loss)
        self.diffaugment = ",".join(parse_policy(self.diffaugment))
        for name, ok, allowed in self._range_checks():
            if not ok:
                raise ConfigError(f"invalid training option {name}={getattr(self, name)!r}: allowed {allowed}",
                                  f"set {name} to a value in the allowed range (--config JSON or its flag)")

    def _range_checks(self) -> list[tuple[str, bool, str]]:
        """(option, value is allowed, allowed values) for every option with a range."""
        checks = [
            ("image_size", self.image_size in (16, 32, 64, 128, 256), "16, 32, 64, 128 or 256 (e.g. 64)"),
            ("steps", self.steps >= 1, ">= 1"),
            ("batch_size", self.batch_size >= 2, ">= 2 (e.g. 32)"),
            ("seed", 0 <= self.seed < 2 ** 63, "0 .. 2**63-1"),
            ("betas", all(0.0 <= b < 1.0 for b in self.betas), "two numbers in [0, 1), e.g. [0.5, 0.999]"),
            ("ema_decay", 0.0 <= self.ema_decay < 1.0, "0 (off) .. < 1, e.g. 0.999"),
            ("holdout_fraction", 0.0 <= self.holdout_fraction < 1.0, "0 (none) .. < 1, default 0.15"),
            ("d_steps", self.d_steps >= 1, ">= 1"),
            ("d_norm", self.d_norm in ("batch", "none"), "'batch' or 'none'"),
            ("ac_weight", not (self.ac_weight > 0 and self.model != "cgan"), "0 unless model is cgan (the AC head)"),
            ("num_threads", self.num_threads >= 0, ">= 0 (0: torch's default)"),
        ]
        checks += [(k, getattr(self, k) >= 1, ">= 1") for k in ("latent_dim", "ngf", "ndf")]
        checks += [(k, getattr(self, k) > 0, "> 0 (e.g. 2e-4)") for k in ("lr_g", "lr_d")]
        checks += [(k, getattr(self, k) >= 0, ">= 0") for k in ("r1_gamma", "ac_weight", "gp_weight", "mode_seeking")]
        checks += [(k, getattr(self, k) >= 0, ">= 0 (0: only at the end)")
                   for k in ("sample_every", "checkpoint_every", "log_every")]
        checks.append(("collapse_patience", self.collapse_patience >= 0, ">= 0 (0: off)"))
        return checks + self._regularizer_checks()

    def _regularizer_checks(self) -> list[tuple[str, bool, str]]:
        """The small-data remedies: LeCam, transitional conditioning, InfoGAN codes, FastGAN reconstruction."""
        if self.transition is not None:
            self.transition = (float(self.transition[0]), float(self.transition[1]))
        start, end = self.transition or (0.0, 0.0)
        return [
            ("lecam_weight", self.lecam_weight >= 0, ">= 0 (0: off; e.g. 0.3)"),
            ("lecam_decay", 0.0 <= self.lecam_decay < 1.0, "0 .. < 1, e.g. 0.99"),
            ("transition", self.transition is None or 0.0 <= start <= end <= 1.0,
             "[start, end] fractions of the steps with 0 <= start <= end <= 1, e.g. [0.1, 0.5]"),
            ("transition", self.transition is None or self.model in ("cgan", "fastgan"),
             "null unless model is a conditional one (cgan or fastgan)"),
            ("info_codes", 0 <= self.info_codes < self.latent_dim, "0 (off) .. latent_dim - 1, e.g. 3"),
            ("info_codes", self.info_codes == 0 or (self.model == "cgan" and self.ac_weight == 0),
             "0 unless model is cgan without the AC head (ac_weight 0)"),
            ("info_weight", self.info_weight >= 0, ">= 0, e.g. 1"),
            ("recon_weight", self.recon_weight >= 0, ">= 0 (fastgan's reconstruction loss weight, default 1)"),
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
            if isinstance(d.get(key), list):
                d[key] = tuple(d[key])
        return cls(**d)

    @classmethod
    def from_json(cls, path: str | os.PathLike) -> "TrainConfig":
        """Read a JSON config file (ConfigError if unreadable)."""
        return cls.from_dict(read_config_json(path))

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


def read_config_json(path: str | os.PathLike) -> dict[str, Any]:
    """The JSON object in ``path``; ConfigError if unreadable, not JSON or not an object."""
    try:
        d = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read training config {path}: {exc}", "pass a JSON object of TrainConfig fields") from None
    if not isinstance(d, dict):
        raise ConfigError(f"training config {path} holds {type(d).__name__}, not a JSON object",
                          'write a JSON object of TrainConfig fields, e.g. {"steps": 2000}')
    return d


def _resolve_amp(amp: bool | str, device: str) -> bool:
    """``True``/``False`` unchanged; ``"auto"`` -> whether bfloat16 is fast on ``device``."""
    if isinstance(amp, bool):
        return amp
    if isinstance(amp, str) and amp.strip().lower() == "auto":
        return bf16_is_fast(resolve_device(str(device)).type)
    raise ConfigError(f"invalid training option amp={amp!r}", 'use true, false or "auto"')

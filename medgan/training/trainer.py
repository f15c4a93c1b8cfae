"""The GAN trainer: a small class with separate D and G steps (each returns a dict of floats).

One iteration = ``d_step()`` (x ``d_steps``) then ``g_step()``. The fake batch drawn for the last D
step is kept (with its graph) and reused by the G step, so G runs forward once per iteration.
All randomness comes from explicit, seeded ``torch.Generator`` objects saved in checkpoints.
"""
from __future__ import annotations

import copy
import math
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from medgan.models import build_discriminator, build_generator, dcgan_init_, losses, set_condition_strength
from medgan.models.diffaugment import DiffAugment
from medgan.models.fastgan import FastGANDiscriminator, reconstruction_loss
from medgan.training.config import TrainConfig
from medgan.training.distributed import DistInfo, allreduce_gradients
from medgan.utils.seeding import derive_training_seed
from medgan.utils.tensors import plain_tensor


def _has_batchnorm(module: nn.Module) -> bool:
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


class Trainer:
    """Holds G, D, the EMA of G, optimizers, RNG streams and the training tensors.

    Args:
        config: training options.
        images: (N, 1, S, S) float32 in [-1, 1] training images.
        labels: (N,) int64 labels in [0, num_classes).
        num_classes: number of classes (G and D sizes).
        device: torch device.
        dist: process-group position (gradients are averaged across processes).
    """

    def __init__(self, config: TrainConfig, images: torch.Tensor, labels: torch.Tensor, num_classes: int,
                 device: torch.device | str = "cpu", dist: DistInfo | None = None) -> None:
        self.config, self.num_classes = config, int(num_classes)
        self.device, self.dist = torch.device(device), dist or DistInfo()
        self.memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
        seed = config.seed
        self.G = dcgan_init_(build_generator(config.model, **config.generator_arch(num_classes)),
                             torch.Generator().manual_seed(derive_training_seed(seed, 1)))
        self.D = dcgan_init_(build_discriminator(config.model, **config.discriminator_arch(num_classes)),
                             torch.Generator().manual_seed(derive_training_seed(seed, 2)))
        self.G.to(self.device, memory_format=self.memory_format)
        self.D.to(self.device, memory_format=self.memory_format)
        self.G_ema = copy.deepcopy(self.G).eval().requires_grad_(False) if config.ema_decay > 0 else None
        self.opt_g = torch.optim.Adam(self.G.parameters(), lr=config.lr_g, betas=config.betas)
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=config.lr_d, betas=config.betas)
        self.augment = DiffAugment(config.diffaugment)
        self.reconstructs = isinstance(self.D, FastGANDiscriminator) and config.recon_weight > 0
        self.d_separate = _has_batchnorm(self.D)  # BN in D: real and fake in separate batches (Radford)
        self.images = plain_tensor(images).to(self.device, torch.float32).contiguous(memory_format=self.memory_format)
        self.labels = labels.to(self.device, torch.int64)
        order = torch.argsort(self.labels.cpu(), stable=True)
        counts = torch.bincount(self.labels.cpu(), minlength=self.num_classes)
        self._order = order.to(self.device)
        self._counts = counts.to(self.device)
        self._starts = (torch.cumsum(counts, 0) - counts).to(self.device)
        self._present = torch.nonzero(counts > 0).flatten().to(self.device)
        self.step = 0
        self.lecam_ema = {"real": 0.0, "fake": 0.0}  # moving averages of D's mean real / fake logits
        self._pending: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self.reseed(self.dist.rank, 0)

    # ---- randomness -------------------------------------------------------------------------
    def reseed(self, rank: int, step: int) -> None:
        """(Re)create the batch, noise and augmentation streams for ``rank`` starting at ``step``."""
        s = self.config.seed
        self.gen_data = torch.Generator().manual_seed(derive_training_seed(s, 10, rank, step))
        self.gen_noise = torch.Generator().manual_seed(derive_training_seed(s, 11, rank, step))
        self.gen_aug = torch.Generator(device=self.device).manual_seed(derive_training_seed(s, 12, rank, step))

    def rng_state(self) -> dict[str, torch.Tensor]:
        return {"data": self.gen_data.get_state(), "noise": self.gen_noise.get_state(), "aug": self.gen_aug.get_state()}

    def set_rng_state(self, state: dict[str, torch.Tensor]) -> None:
        self.gen_data.set_state(state["data"].cpu())
        self.gen_noise.set_state(state["noise"].cpu())
        self.gen_aug.set_state(state["aug"].cpu() if self.device.type == "cpu" else state["aug"])

    def sample_batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """A batch of real images and labels (class-balanced when ``config.balanced``)."""
        b = self.config.batch_size
        if self.config.balanced:
            pick = torch.randint(len(self._present), (b,), generator=self.gen_data).to(self.device)
            y = self._present[pick]
            u = torch.rand(b, generator=self.gen_data).to(self.device)
            idx = self._order[self._starts[y] + (u * self._counts[y]).long().clamp_max(self._counts[y] - 1)]
        else:
            idx = torch.randint(len(self.labels), (b,), generator=self.gen_data).to(self.device)
        return self.images[idx], self.labels[idx]

    def sample_noise(self, n: int) -> torch.Tensor:
        """z ~ N(0, 1); with InfoGAN codes its last ``info_codes`` entries ~ U(-1, 1)."""
        z = torch.randn(n, self.config.latent_dim, generator=self.gen_noise)
        k = self.config.info_codes
        if k:
            z[:, -k:] = torch.rand(n, k, generator=self.gen_noise) * 2 - 1
        return z.to(self.device)

    def _info_loss(self, fake_aug: torch.Tensor, y: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """InfoGAN's mutual-information term: D's code head must recover the codes from the fake."""
        k = self.config.info_codes
        with self._autocast():  # called after the step's autocast block: a bf16 fake needs it too
            _, codes = self.D(fake_aug, y, return_codes=True)
        return F.mse_loss(codes.float(), z[:, -k:].float())

    def _autocast(self):
        if not self.config.amp:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    def _d(self, x: torch.Tensor, y: torch.Tensor, with_class: bool = False):
        if with_class:
            return self.D(x, y, return_class_logits=True)
        return self.D(x, y), None

    # ---- steps ------------------------------------------------------------------------------
    def d_step(self, keep_fake: bool = True) -> dict[str, float]:
        """One discriminator update; returns d_loss, d_real, d_fake (D's mean sigmoid outputs)."""
        cfg = self.config
        real, y = self.sample_batch()
        z = self.sample_noise(real.shape[0])
        with self._autocast(), (nullcontext() if keep_fake else torch.no_grad()):
            fake = self.G(z, y)
        self._pending = (y, fake, z) if keep_fake else None
        self.D.requires_grad_(True)
        if cfg.r1_gamma > 0:
            real = real.detach().requires_grad_(True)
        ac = cfg.ac_weight > 0
        with self._autocast():
            real_aug = self.augment(real, self.gen_aug)
            fake_aug = self.augment(fake.detach(), self.gen_aug)
            if self.d_separate:
                r_logits, r_cls = self._d(real_aug, y, ac)
                f_logits, f_cls = self._d(fake_aug, y, ac)
            elif self.reconstructs:
                logits, feat8 = self.D(torch.cat([real_aug, fake_aug.to(real_aug.dtype)]), torch.cat([y, y]),
                                       return_features=True)
                recon = reconstruction_loss(self.D, feat8[: real_aug.shape[0]], real_aug)
                r_logits, f_logits = logits.chunk(2)
                r_cls = f_cls = None
            else:
                logits, cls = self._d(torch.cat([real_aug, fake_aug.to(real_aug.dtype)]), torch.cat([y, y]), ac)
                r_logits, f_logits = logits.chunk(2)
                r_cls, f_cls = cls.chunk(2) if cls is not None else (None, None)
            r_logits, f_logits = r_logits.float(), f_logits.float()
            loss = losses.d_loss(cfg.loss, r_logits, f_logits)
            if self.reconstructs:
                loss = loss + cfg.recon_weight * recon
            if ac:
                loss = loss + cfg.ac_weight * (F.cross_entropy(r_cls.float(), y) + F.cross_entropy(f_cls.float(), y))
        if cfg.loss == "wgan-gp":
            loss = loss + cfg.gp_weight * losses.gradient_penalty(lambda x: self.D(x, y), real_aug.detach().float(),
                                                                  fake_aug.detach().float(), self.gen_aug)
        if cfg.r1_gamma > 0:
            loss = loss + cfg.r1_gamma / 2 * losses.r1_penalty(r_logits, real)
        if cfg.lecam_weight > 0:
            loss = loss + cfg.lecam_weight * self._lecam(r_logits, f_logits)
        if cfg.info_codes:
            loss = loss + cfg.info_weight * self._info_loss(fake_aug, y, z)
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        allreduce_gradients(self.D.parameters(), self.dist)
        self.opt_d.step()
        with torch.no_grad():
            return {"d_loss": float(loss.detach()), "d_real": float(torch.sigmoid(r_logits).mean()),
                    "d_fake": float(torch.sigmoid(f_logits).mean())}

    def _lecam(self, r_logits: torch.Tensor, f_logits: torch.Tensor) -> torch.Tensor:
        """The LeCam term against the moving averages, which it then updates."""
        ema, decay = self.lecam_ema, self.config.lecam_decay
        reg = losses.lecam(r_logits, f_logits, ema["real"], ema["fake"])
        ema["real"] = decay * ema["real"] + (1 - decay) * float(r_logits.detach().mean())
        ema["fake"] = decay * ema["fake"] + (1 - decay) * float(f_logits.detach().mean())
        return reg

    def set_condition_strength(self) -> float:
        """Phase class conditioning in (``config.transition``) for the current step; returns the strength."""
        lam = self.config.condition_strength(self.step)
        for net in (self.G, self.D):
            set_condition_strength(net, lam)
        if self.G_ema is not None:
            set_condition_strength(self.G_ema, lam)
        return lam

    def g_step(self) -> dict[str, float]:
        """One generator update (reusing the last D step's fake batch), EMA update, ``step += 1``."""
        cfg = self.config
        if self._pending is None:
            _, y = self.sample_batch()
            z = self.sample_noise(y.shape[0])
            with self._autocast():
                fake = self.G(z, y)
        else:
            y, fake, z = self._pending
        self._pending = None
        self.D.requires_grad_(False)
        with self._autocast():
            logits, cls = self._d(self.augment(fake, self.gen_aug), y, cfg.ac_weight > 0)
            loss = losses.g_loss(cfg.loss, logits.float())
            if cls is not None:
                loss = loss + cfg.ac_weight * F.cross_entropy(cls.float(), y)
        if cfg.info_codes:
            loss = loss + cfg.info_weight * self._info_loss(self.augment(fake, self.gen_aug), y, z)
        if cfg.mode_seeking > 0:
            loss = loss + cfg.mode_seeking * losses.mode_seeking(fake, z, y)
        self.opt_g.zero_grad(set_to_none=True)
        loss.backward()
        allreduce_gradients(self.G.parameters(), self.dist)
        self.opt_g.step()
        self.D.requires_grad_(True)
        self.step += 1
        self.update_ema()
        return {"g_loss": float(loss.detach())}

    def train_step(self) -> dict[str, float]:
        """``d_steps`` D updates then one G update; merged metrics."""
        out: dict[str, float] = {}
        lam = self.set_condition_strength() if self.config.transition is not None else None
        for i in range(self.config.d_steps):
            out = self.d_step(keep_fake=i == self.config.d_steps - 1)
        out.update(self.g_step())
        if lam is not None:
            out["condition_strength"] = lam
        return out

    @torch.no_grad()
    def update_ema(self) -> None:
        """EMA of G's parameters (decay warmed up as min(decay, (1+t)/(10+t))); buffers copied."""
        if self.G_ema is None:
            return
        decay = min(self.config.ema_decay, (1 + self.step) / (10 + self.step))
        ema_p = list(self.G_ema.parameters())
        torch._foreach_lerp_(ema_p, [p.detach() for p in self.G.parameters()], 1.0 - decay)
        for b_ema, b in zip(self.G_ema.buffers(), self.G.buffers()):
            b_ema.copy_(b)

    @property
    def sampling_generator(self) -> nn.Module:
        """The generator used for samples and export (EMA when enabled)."""
        return self.G_ema if self.G_ema is not None else self.G

    @torch.no_grad()
    def sample(self, z: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """Images from the sampling generator in eval mode."""
        g = self.sampling_generator
        was_training = g.training
        g.eval()
        out = g(z.to(self.device), y.to(self.device)).float()
        g.train(was_training)
        return out

    @staticmethod
    def finite(metrics: dict[str, float]) -> bool:
        return all(math.isfinite(v) for v in metrics.values())

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to continue bit-exactly (plain tensors / numbers / dicts)."""
        return {
            "step": self.step, "G": self.G.state_dict(), "D": self.D.state_dict(),
            "G_ema": self.G_ema.state_dict() if self.G_ema is not None else None,
            "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict(), "rng": self.rng_state(),
            "lecam_ema": torch.tensor([self.lecam_ema["real"], self.lecam_ema["fake"]], dtype=torch.float64),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.G.load_state_dict(state["G"])
        self.D.load_state_dict(state["D"])
        if self.G_ema is not None and state.get("G_ema") is not None:
            self.G_ema.load_state_dict(state["G_ema"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        self.step = int(state["step"])
        if state.get("lecam_ema") is not None:
            real, fake = (float(v) for v in state["lecam_ema"])
            self.lecam_ema = {"real": real, "fake": fake}
        if self.config.transition is not None:
            self.set_condition_strength()
        if self.dist.rank == 0:
            self.set_rng_state(state["rng"])
        else:
            self.reseed(self.dist.rank, self.step)

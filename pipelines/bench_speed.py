"""Training and sampling speed of medgan's GANs vs a plain reference DCGAN loop (PyTorch-examples style).

Prints, side by side: training images/s and sampling images/s for dcgan and cgan at 64x64, the same for
the reference loop (same architecture sizes, same batch size), ``train ratio: X`` (medgan dcgan /
reference), GFLOP per image (counted with torch.utils.flop_counter on the real step) and the achieved
GFLOP/s, and this machine's dense float32 matmul rate measured in the same run. On a CPU with native
bfloat16 (avx512_bf16 / amx_bf16) it also prints the bfloat16 matmul rate and a ``cgan bf16`` row: the
conditional GAN with bfloat16 autocast, as the benchmark trains it there (``amp="auto"``).

    python pipelines/bench_speed.py            # full measurement (a few minutes on 2 cores)
    python pipelines/bench_speed.py --quick    # smoke test with tiny settings
"""
from __future__ import annotations

import argparse
import os
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def matmul_gflops(n: int, repeats: int, dtype: torch.dtype = torch.float32) -> float:
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.matmul(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e9


def flops_of(fn) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def timed(fn, steps: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(steps):
        fn()
    return time.perf_counter() - t


# ---- the reference: pytorch/examples dcgan/main.py, single channel ------------------------------------
class RefG(nn.Module):
    def __init__(self, nz: int, ngf: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1, bias=False), nn.Tanh())

    def forward(self, z):
        return self.main(z)


class RefD(nn.Module):
    def __init__(self, ndf: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1, bias=False), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 2), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 4), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False), nn.BatchNorm2d(ndf * 8), nn.LeakyReLU(0.2, True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False), nn.Sigmoid())

    def forward(self, x):
        return self.main(x).view(-1)


def reference_step_fn(nz: int, ngf: int, ndf: int, batch: int):
    netG, netD = RefG(nz, ngf), RefD(ndf)
    crit = nn.BCELoss()
    optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
    optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(batch, 1, 64, 64) * 2 - 1

    def step():
        netD.zero_grad()
        out = netD(real)
        errD_real = crit(out, torch.full((batch,), 1.0))
        errD_real.backward()
        fake = netG(torch.randn(batch, nz, 1, 1))
        out = netD(fake.detach())
        errD_fake = crit(out, torch.full((batch,), 0.0))
        errD_fake.backward()
        optD.step()
        netG.zero_grad()
        out = netD(fake)
        errG = crit(out, torch.full((batch,), 1.0))
        errG.backward()
        optG.step()

    @torch.no_grad()
    def sample(n):
        netG.eval()
        return netG(torch.randn(n, nz, 1, 1))

    return step, sample


def medgan_step_fn(model: str, ngf: int, ndf: int, batch: int, classes: int, n_real: int, amp: bool = False):
    from medgan.training import TrainConfig, Trainer

    cfg = TrainConfig(model=model, image_size=64, batch_size=batch, ngf=ngf, ndf=ndf, device="cpu", steps=1, amp=amp)
    images = torch.rand(n_real, 1, 64, 64) * 2 - 1
    labels = torch.arange(n_real) % classes
    trainer = Trainer(cfg, images, labels, classes)

    @torch.inference_mode()
    def sample(n):
        g = trainer.sampling_generator.eval()
        z = torch.randn(n, cfg.latent_dim)
        return g(z, torch.arange(n) % classes)

    return trainer.train_step, sample


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64, help="G width for every model (reference default 64)")
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--steps", type=int, default=20, help="timed training steps per model")
    p.add_argument("--sample-batches", type=int, default=10)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--quick", action="store_true", help="tiny settings: checks the script runs")
    args = p.parse_args(argv)
    if args.quick:
        args.batch_size, args.ngf, args.ndf, args.steps, args.sample_batches = 8, 8, 8, 2, 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    mm_n = 512 if args.quick else 2048
    mm = matmul_gflops(mm_n, 3 if args.quick else 10)
    print(f"threads: {torch.get_num_threads()}  batch: {args.batch_size}  ngf/ndf: {args.ngf}/{args.ndf}  64x64")
    print(f"matmul float32 ({mm_n}x{mm_n}): {mm:.1f} GFLOP/s")
    from medgan.training.precision import bf16_is_fast

    bf16 = bf16_is_fast("cpu")
    if bf16:
        print(f"matmul bfloat16 ({mm_n}x{mm_n}): {matmul_gflops(mm_n, 3 if args.quick else 10, torch.bfloat16):.1f} GFLOP/s")
    b, rows = args.batch_size, {}
    builders = {
        "reference": lambda: reference_step_fn(100, args.ngf, args.ndf, b),
        "medgan dcgan": lambda: medgan_step_fn("dcgan", args.ngf, args.ndf, b, args.classes, 4 * b),
        "medgan cgan": lambda: medgan_step_fn("cgan", args.ngf, args.ndf, b, args.classes, 4 * b),
    }
    if bf16:  # the benchmark's setting on CPUs with native bfloat16 (TrainConfig amp="auto")
        builders["cgan bf16"] = lambda: medgan_step_fn("cgan", args.ngf, args.ndf, b, args.classes, 4 * b, amp=True)
    print(f"{'model':<14}{'train img/s':>12}{'GFLOP/img':>11}{'GFLOP/s':>9}{'sample img/s':>14}{'GFLOP/img':>11}{'GFLOP/s':>9}{'% matmul':>10}")
    for name, build in builders.items():
        step, sample = build()
        train_flop = flops_of(step) / b
        t = timed(step, args.steps)
        train_ips = args.steps * b / t
        sample_flop = flops_of(lambda: sample(b)) / b
        ts = timed(lambda: sample(b), args.sample_batches)
        sample_ips = args.sample_batches * b / ts
        rows[name] = train_ips
        print(f"{name:<14}{train_ips:>12.1f}{train_flop / 1e9:>11.3f}{train_ips * train_flop / 1e9:>9.1f}"
              f"{sample_ips:>14.1f}{sample_flop / 1e9:>11.3f}{sample_ips * sample_flop / 1e9:>9.1f}"
              f"{100 * sample_ips * sample_flop / 1e9 / mm:>9.0f}%")
    print(f"train ratio: {rows['medgan dcgan'] / rows['reference']:.2f}")
    print("(train ratio = medgan dcgan / reference images per second; GFLOP counted by torch.utils.flop_counter;")
    print(" '% matmul' is against the float32 rate, so bfloat16 rows can exceed 100 %)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

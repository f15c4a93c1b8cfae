"""Training and sampling speed of medgan's GANs vs a plain reference DCGAN loop (PyTorch-examples style).

The rows (the reference loop, medgan dcgan, medgan cgan in float32, and on a CPU with native bfloat16 --
avx512_bf16 / amx_bf16 -- ``dcgan bf16`` and ``cgan bf16``, with the bfloat16 autocast medgan's default
``amp="auto"`` turns on there) and the dense matmul rate are measured in interleaved rounds: round r runs every row
once, in an order rotated by r, so other load on the machine spreads over all rows instead of landing
on whichever row ran at that moment. Per row it prints the median and the min-max of training and
sampling images/s over the rounds, GFLOP per image (counted with torch.utils.flop_counter on the real
step), the achieved GFLOP/s and its share of the matmul rate of the same dtype. A figure above the
fastest matmul rate measured in the run cannot be right (the timer or the flop count is wrong, or the
load changed between the two), so it is printed as a measurement error instead of as a result.

``train ratio: X`` is medgan dcgan in its default training configuration (bf16 where native, else
float32) / the float32 reference (same architecture sizes and batch), the median of the per-round ratios
(each round's two rows ran minutes apart at most, so a load change cancels out); on a bf16 CPU
``train ratio float32`` follows, with medgan in float32.

    python pipelines/bench_speed.py                    # full measurement
    python pipelines/bench_speed.py --quick            # smoke test with tiny settings
    python pipelines/bench_speed.py --json speed.json  # also write every figure
"""
from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any, Callable

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from medgan.training.precision import bf16_is_fast


def matmul_gflops(n: int, repeats: int, dtype: torch.dtype = torch.float32) -> float:
    """Dense (n x n) @ (n x n) matmul rate in GFLOP/s (one warm-up, then ``repeats`` timed)."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    torch.matmul(a, b)
    t = time.perf_counter()
    for _ in range(repeats):
        torch.matmul(a, b)
    return 2 * n ** 3 * repeats / (time.perf_counter() - t) / 1e9


def flops_of(fn: Callable[[], Any]) -> float:
    with FlopCounterMode(display=False) as counter:
        fn()
    return float(counter.get_total_flops())


def timed(fn: Callable[[], Any], steps: int) -> float:
    """Seconds for ``steps`` calls of ``fn``."""
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


# ---- interleaved rounds -----------------------------------------------------------------------------
class Row:
    """One measured model: its training step, its sampler and the dtype whose matmul rate bounds it.

    (A plain class, not a dataclass: the tests load this script without registering it as a module.)
    """

    def __init__(self, name: str, step: Callable[[], Any], sample: Callable[[int], Any], dtype: str = "float32",
                 train_flop: float = 0.0, sample_flop: float = 0.0) -> None:
        self.name, self.step, self.sample, self.dtype = name, step, sample, dtype
        self.train_flop, self.sample_flop = train_flop, sample_flop  # per image


def build_rows(args: argparse.Namespace, bf16: bool) -> list[Row]:
    b, k = args.batch_size, args.classes
    rows = [Row("reference", *reference_step_fn(100, args.ngf, args.ndf, b)),
            Row("medgan dcgan", *medgan_step_fn("dcgan", args.ngf, args.ndf, b, k, 4 * b)),
            Row("medgan cgan", *medgan_step_fn("cgan", args.ngf, args.ndf, b, k, 4 * b))]
    if bf16:  # medgan's default on CPUs with native bfloat16 (TrainConfig amp="auto")
        for model in ("dcgan", "cgan"):
            step, sample = medgan_step_fn(model, args.ngf, args.ndf, b, k, 4 * b, amp=True)
            rows.append(Row(f"{model} bf16", step, sample, dtype="bfloat16"))
    return rows


def rotated(units: list[str], r: int) -> list[str]:
    """Round r's order: ``units`` rotated left by r."""
    k = r % len(units)
    return units[k:] + units[:k]


def run_rounds(rows: list[Row], dtypes: list[str], args: argparse.Namespace) -> dict[str, Any]:
    """Every row (and every matmul dtype) once per round, order rotated per round; raw per-round figures."""
    b = args.batch_size
    by_name = {row.name: row for row in rows}
    units = [f"matmul {d}" for d in dtypes] + [row.name for row in rows]
    train: dict[str, list[float]] = {row.name: [] for row in rows}
    sample: dict[str, list[float]] = {row.name: [] for row in rows}
    matmul: dict[str, list[float]] = {d: [] for d in dtypes}
    order: list[list[str]] = []
    for r in range(args.rounds):
        order.append(rotated(units, r))
        for unit in order[-1]:
            if unit.startswith("matmul "):
                d = unit.split(" ", 1)[1]
                matmul[d].append(matmul_gflops(args.matmul_size, args.matmul_repeats, getattr(torch, d)))
                continue
            row = by_name[unit]
            train[unit].append(args.steps * b / timed(row.step, args.steps))
            sample[unit].append(args.sample_batches * b / timed(lambda: row.sample(b), args.sample_batches))
    return {"order": order, "train": train, "sample": sample, "matmul": matmul}


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(rows: list[Row], raw: dict[str, Any]) -> dict[str, Any]:
    """Medians, spreads, shares of the matmul rate and the measurement errors (figures above the ceiling).

    The ceiling of a row is the fastest matmul rate of its dtype measured in any round: a training or
    sampling rate above it, in any round, is impossible and is reported as an error instead of a figure.
    """
    matmul = {d: {**spread(v), "per_round": v} for d, v in raw["matmul"].items()}
    out: dict[str, Any] = {"order": raw["order"], "matmul_gflops": matmul, "rows": {}, "errors": []}
    for row in rows:
        ceiling = matmul[row.dtype]["max"]
        entry: dict[str, Any] = {"dtype": row.dtype, "matmul_ceiling_gflops": ceiling}
        for kind, flop in (("train", row.train_flop), ("sample", row.sample_flop)):
            ips = raw[kind][row.name]
            gflops = [v * flop / 1e9 for v in ips]
            bad = [r for r, g in enumerate(gflops) if g > ceiling]
            for r in bad:
                out["errors"].append(f"{row.name} {kind}: {gflops[r]:.1f} GFLOP/s in round {r} is above the fastest "
                                     f"{row.dtype} matmul rate measured ({ceiling:.1f} GFLOP/s)")
            med = statistics.median(gflops)
            entry[kind] = {"images_per_s": {**spread(ips), "per_round": ips}, "gflop_per_image": flop / 1e9,
                           "gflops_median": med, "share_of_matmul": med / matmul[row.dtype]["median"],
                           "measurement_error": bool(bad), "rounds_above_ceiling": bad}
        out["rows"][row.name] = entry
    if "reference" in raw["train"] and "medgan dcgan" in raw["train"]:
        default_row = "dcgan bf16" if "dcgan bf16" in raw["train"] else "medgan dcgan"
        out["train_ratio"] = _ratio_to_reference(out["rows"], raw, default_row)
        if default_row != "medgan dcgan":
            out["train_ratio_float32"] = _ratio_to_reference(out["rows"], raw, "medgan dcgan")
    return out


def _ratio_to_reference(rows: dict[str, Any], raw: dict[str, Any], name: str) -> dict[str, Any]:
    """Row ``name`` / reference training images/s: median of the per-round ratios and ratio of the medians."""
    per_round = [m / r for m, r in zip(raw["train"][name], raw["train"]["reference"])]
    return {"row": name, "median_of_round_ratios": statistics.median(per_round), "per_round": per_round,
            "ratio_of_medians": rows[name]["train"]["images_per_s"]["median"]
            / rows["reference"]["train"]["images_per_s"]["median"],
            "measurement_error": rows[name]["train"]["measurement_error"] or rows["reference"]["train"]["measurement_error"]}


def _cells(kind: dict[str, Any]) -> str:
    if kind["measurement_error"]:
        return f"{'MEASUREMENT ERROR':>23}{kind['gflop_per_image']:>10.3f}{'-':>9}{'-':>9}"
    ips = kind["images_per_s"]
    return (f"{ips['median']:.1f} ({ips['min']:.1f}-{ips['max']:.1f})".rjust(23) +
            f"{kind['gflop_per_image']:>10.3f}{kind['gflops_median']:>9.1f}{100 * kind['share_of_matmul']:>8.0f}%")


def _ratio_lines(tr: dict[str, Any], label: str) -> list[str]:
    value = "measurement error" if tr["measurement_error"] else f"{tr['median_of_round_ratios']:.2f}"
    default = " (medgan's default training configuration)" if label == "train ratio" else ""
    return [f"{label}: {value}",
            f"({tr['row']}{default} / reference training images/s: median of the {len(tr['per_round'])} per-round "
            f"ratios, min-max {min(tr['per_round']):.2f}-{max(tr['per_round']):.2f}; ratio of the medians "
            f"{tr['ratio_of_medians']:.2f})"]


def report(summary: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines = [f"threads: {torch.get_num_threads()}  batch: {args.batch_size}  ngf/ndf: {args.ngf}/{args.ndf}  64x64  "
             f"rounds: {args.rounds}  steps/row/round: {args.steps}  sample batches/row/round: {args.sample_batches}"]
    for d, m in summary["matmul_gflops"].items():
        lines.append(f"matmul {d} ({args.matmul_size}x{args.matmul_size}): median {m['median']:.1f} GFLOP/s "
                     f"(min-max {m['min']:.1f}-{m['max']:.1f})")
    head = f"{'img/s median (min-max)':>23}{'GFLOP/img':>10}{'GFLOP/s':>9}{'%matmul':>9}"
    lines.append(f"{'':<14}{'--------------- train ---------------':^51}{'--------------- sample --------------':^51}")
    lines.append(f"{'model':<14}{head}{head}")
    for name, row in summary["rows"].items():
        lines.append(f"{name:<14}{_cells(row['train'])}{_cells(row['sample'])}")
    for key, label in (("train_ratio", "train ratio"), ("train_ratio_float32", "train ratio float32")):
        if (tr := summary.get(key)) is not None:
            lines += _ratio_lines(tr, label)
    lines += [f"measurement error: {e}" for e in summary["errors"]]
    lines.append("(GFLOP counted by torch.utils.flop_counter; '%matmul' = median GFLOP/s / median matmul rate of the "
                 "row's dtype; a figure above the fastest matmul rate measured is printed as MEASUREMENT ERROR)")
    return lines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--ngf", type=int, default=64, help="G width for every model (reference default 64)")
    p.add_argument("--ndf", type=int, default=64)
    p.add_argument("--classes", type=int, default=3)
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (each runs every row once)")
    p.add_argument("--steps", type=int, default=4, help="timed training steps per row and round")
    p.add_argument("--sample-batches", type=int, default=4, help="timed sampling batches per row and round")
    p.add_argument("--warmup", type=int, default=2, help="untimed training steps and sampling batches per row first")
    p.add_argument("--matmul-size", type=int, default=2048)
    p.add_argument("--matmul-repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", default=None, metavar="OUT", help="also write every figure (per round too) here")
    p.add_argument("--quick", action="store_true", help="tiny settings: checks the script runs")
    args = p.parse_args(argv)
    if args.quick:
        args.batch_size, args.ngf, args.ndf, args.steps, args.sample_batches = 8, 8, 8, 2, 2
        args.rounds, args.warmup, args.matmul_size = 2, 1, 256
    if args.rounds < 1 or args.steps < 1 or args.sample_batches < 1:
        p.error("--rounds, --steps and --sample-batches must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    bf16 = bf16_is_fast("cpu")
    rows = build_rows(args, bf16)
    b = args.batch_size
    for row in rows:  # GFLOP per image from the real step, then warm-up
        row.train_flop = flops_of(row.step) / b
        row.sample_flop = flops_of(lambda: row.sample(b)) / b
        timed(row.step, args.warmup)
        timed(lambda: row.sample(b), args.warmup)
    raw = run_rounds(rows, ["float32", "bfloat16"] if bf16 else ["float32"], args)
    summary = summarize(rows, raw)
    print("\n".join(report(summary, args)))
    if args.json:
        from medgan.utils.atomic import atomic_save_json

        settings = {k: v for k, v in vars(args).items() if k != "json"}
        atomic_save_json(args.json, {"settings": {**settings, "threads": torch.get_num_threads(), "bf16_native": bf16},
                                     **summary})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Within-class diversity of a GAN recipe on the phantom: a cheap mode-collapse probe.

Trains one GAN with the given TrainConfig overrides and prints, per class, the ratio of the synthetic
images' between-sample standard deviation (per pixel, averaged) to the real images' (1.0 = as varied as
real data, 0 = one image repeated), the mean pairwise MS-SSIM of the synthetic and of the real images
(lower = more varied; a collapsed GAN sits near 1) and D's mean outputs over the last 200 steps.
Used to choose recipe defaults (docs/training.md)::

    python pipelines/diversity_check.py --name base --steps 1200 --set '{"mbstd": false}'
    python pipelines/diversity_check.py --name mbstd --steps 1200 --set '{"mbstd": true}'
"""
from __future__ import annotations

import argparse
import csv
import json
import time

import torch

from medgan.data import load_data, prepare_tensors
from medgan.evaluation.diversity import mean_pairwise_ms_ssim
from medgan.synthesis import load_generator
from medgan.training import TrainConfig, train


def class_diversity(sampler, data, per_class: int = 64, seed: int = 1
                    ) -> tuple[dict[str, float], list[float], list[float]]:
    """Per class, from one draw of ``per_class`` synthetic images: the synthetic / real between-sample
    std ratio, and the mean pairwise MS-SSIM (100 pairs) of the synthetic and of the real images."""
    ratios, fake_ms, real_ms = {}, [], []
    for c, name in enumerate(data.class_names):
        fake = sampler.sample_class(c, per_class, seed=seed)
        real = data.images[data.labels == c]
        ratios[name] = round(fake.std(0).mean().item() / real.std(0).mean().item(), 3)
        fake_ms.append(round(mean_pairwise_ms_ssim(fake.float().clamp(-1, 1), 100), 2))
        real_ms.append(round(mean_pairwise_ms_ssim(real[:per_class].float(), 100), 2))
    return ratios, fake_ms, real_ms


def discriminator_outputs(run, last: int = 20) -> dict[str, float]:
    """Mean d_loss, d_real, d_fake over the last ``last`` log rows."""
    with open(f"{run}/log.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))[-last:]
    return {k: round(sum(float(r[k]) for r in rows) / len(rows), 2) for k in ("d_loss", "d_real", "d_fake")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True)
    parser.add_argument("--data", default="phantom")
    parser.add_argument("--steps", type=int, default=1200)
    parser.add_argument("--set", default="{}", help="TrainConfig overrides as JSON")
    parser.add_argument("--out", default="runs/diversity")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = prepare_tensors(load_data(args.data), image_size=64)
    config = TrainConfig(**{"model": "cgan", "steps": args.steps, **json.loads(args.set)})
    start = time.time()
    run = train(config, data, f"{args.out}/{args.name}", progress=False)
    wall = time.time() - start
    sampler = load_generator(run)
    ratios, fake_ms, real_ms = class_diversity(sampler, data)
    print(f"{args.name}: diversity ratio (synthetic/real between-sample std) {ratios}; "
          f"MS-SSIM synthetic {fake_ms} real {real_ms}; D over the last steps {discriminator_outputs(run)}; "
          f"{wall:.0f} s")


if __name__ == "__main__":
    main()

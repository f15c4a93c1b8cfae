"""GAN ablation at an equal budget: which generator's images carry their class?

Every variant trains on the same patients of one data set (``medgan.training.train`` keeps the same
patient-grouped holdout for every variant: it depends only on the seed and the data), is sampled
``--per-class`` images per class, and is scored by :func:`medgan.evaluation.evaluate_quality` against
the same held-out real images: TSTR AUC ratio, class leak vs real misclassification, precision,
recall, coverage, real-vs-synthetic accuracy, and the CPU-minutes the training took (process time
on ``--threads`` threads)::

    python pipelines/gan_ablation.py --data phantom:n_per_class=100 --out runs/ablation/phantom
    python pipelines/gan_ablation.py --data ../shared/data/head_ct --out runs/ablation/head_ct
    python pipelines/gan_ablation.py --data ../shared/data/head_ct --cpu-minutes 8 --out runs/ablation/head_ct_cpu8

``--cpu-minutes`` makes it an equal-CPU comparison: each variant's steps are what that budget buys it,
from a short probe of its CPU seconds per step (kept in ``OUT/<variant>/budget.json``).

Writes ``OUT/<variant>/run`` (the GAN run), ``OUT/<variant>/quality`` (quality.json/.md, samples.png)
and ``OUT/ablation.json`` + ``OUT/ablation.md`` (one row per variant). Re-running skips finished
variants, so an interrupted ablation resumes.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan.cli.evaluate import split_real
from medgan.data import load_data, prepare_tensors
from medgan.evaluation import evaluate_quality
from medgan.synthesis import load_generator
from medgan.synthesis.traversal import save_traversals
from medgan.training import TrainConfig, train
from medgan.training.trainer import Trainer
from medgan.training.logs import image_grid
from medgan.utils import atomic_path, atomic_save_json, atomic_write_text

#: name -> TrainConfig fields. "Stabilizers" shared by all: DiffAugment translation+cutout, EMA of G,
#: minibatch-std in D, class-balanced batches (the recipe defaults of each model).
VARIANTS: dict[str, dict[str, Any]] = {
    "cgan": {"model": "cgan"},
    "cgan-transition": {"model": "cgan", "transition": [0.2, 0.6]},
    "dcgan": {"model": "dcgan"},
    "cgan-transition-lecam": {"model": "cgan", "transition": [0.2, 0.6], "lecam_weight": 0.3},
    "dcgan-lecam": {"model": "dcgan", "lecam_weight": 0.3},
    "fastgan": {"model": "fastgan", "ngf": 8},  # ngf 8: its GLU up-blocks cost ~1.6x a 32-wide DCGAN step here
    "cgan-info": {"model": "cgan", "info_codes": 3},  # InfoGAN: 3 continuous codes + a code head on D
    "fastgan-lecam": {"model": "fastgan", "ngf": 8, "lecam_weight": 0.3},
    "fastgan-bf16": {"model": "fastgan", "ngf": 8, "amp": True},  # bfloat16 autocast: fast only with native bf16
}
COLUMNS = ("tstr_ratio", "tstr_auc", "real_auc", "class_leak", "real_misclass", "precision", "recall", "coverage",
           "real_vs_syn_acc")


def cpu_seconds_per_step(cfg: TrainConfig, data: Any, probe_steps: int = 12, warmup: int = 3) -> float:
    """Process CPU seconds one training step of ``cfg`` costs on ``data`` (a short probe, nothing written)."""
    trainer = Trainer(cfg, data.images, torch.as_tensor(data.labels), len(data.class_names), "cpu")
    for _ in range(warmup):
        trainer.train_step()
    start = time.process_time()
    for _ in range(probe_steps):
        trainer.train_step()  # G's step already updates the EMA, as in training
    return (time.process_time() - start) / probe_steps


def variant_steps(fields: dict[str, Any], data: Any, args: argparse.Namespace, out: Path) -> int:
    """``--steps``, or with ``--cpu-minutes`` the steps that budget buys this variant (probed once, kept)."""
    if not args.cpu_minutes:
        return args.steps
    budget = out / "budget.json"
    if budget.is_file():
        return int(json.loads(budget.read_text())["steps"])
    probe = TrainConfig(**{**_base_fields(args), "steps": 1, **fields})
    per_step = cpu_seconds_per_step(probe, data)
    steps = max(1, int(args.cpu_minutes * 60 / per_step))
    atomic_save_json(budget, {"cpu_minutes": args.cpu_minutes, "cpu_s_per_step": round(per_step, 4), "steps": steps})
    return steps


def _base_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"steps": args.steps, "image_size": args.image_size, "seed": args.seed, "num_threads": args.threads,
            "device": "cpu", "holdout_fraction": args.holdout, "sample_every": 0, "checkpoint_every": 250}


def run_variant(name: str, fields: dict[str, Any], data: Any, spec: str, out: Path, args: argparse.Namespace) -> dict:
    """Train (or reuse) one variant, sample it and score it; returns its row."""
    done = out / "row.json"
    if done.is_file():
        return json.loads(done.read_text())
    steps = variant_steps(fields, data, args, out)
    cfg = TrainConfig(**{**_base_fields(args), **fields, "steps": steps})
    run_dir = out / "run"
    resume = (run_dir / "checkpoints" / "last.pt").is_file()
    t_cpu, t_wall = time.process_time(), time.perf_counter()
    train(cfg, data, run_dir, resume=resume, progress=False)
    cpu_min, wall_min = (time.process_time() - t_cpu) / 60, (time.perf_counter() - t_wall) / 60
    sampler = load_generator(run_dir)
    real_train, holdout, notes = split_real(data, sampler.meta, seed=args.seed)
    syn = torch.cat([sampler.sample_class(c, args.per_class, seed=args.seed) for c in range(len(data.class_names))])
    syn_y = torch.arange(len(data.class_names)).repeat_interleave(args.per_class)
    if sampler.info_codes:
        save_traversals(sampler, out / "traversals", seed=args.seed)
    res = evaluate_quality(real_train, holdout, syn, syn_y, out_dir=out / "quality", seed=args.seed, umap=False,
                           fast=args.fast,
                           notes=notes, context={"variant": name, "data": spec, "steps": steps})
    row = {"variant": name, "fields": fields, "steps": steps, "cpu_minutes": round(cpu_min, 2), "wall_minutes": round(wall_min, 2),
           "resumed": resume, "overall": _headline(res["overall"]),
           "per_class": {c: _headline(g) for c, g in res["per_class"].items()}}
    atomic_save_json(done, row)
    return row


def _headline(group: dict[str, Any]) -> dict[str, Any]:
    fid = group["fidelity"]
    return {"tstr_ratio": group["tstr_ratio"], "tstr_auc": group["tstr_auc"], "real_auc": group["real_auc"],
            "class_leak": group["class_leak"], "real_misclass": group["real_misclass"], "precision": fid["precision"],
            "recall": fid["recall"], "coverage": fid["coverage"], "real_vs_syn_acc": group["two_sample"]["accuracy"]}


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def table(rows: list[dict], spec: str, args: argparse.Namespace) -> str:
    """The Markdown table: overall numbers per variant, then the worst class's leak and recall."""
    head = ["variant", *COLUMNS, "worst-class leak / its real misclass", "min class recall", "steps", "CPU-min"]
    budget = f"a budget of {args.cpu_minutes} CPU-minutes per GAN" if args.cpu_minutes else f"{args.steps} steps per GAN"
    lines = [f"# GAN ablation on `{spec}`", "",
             f"{budget}, seed {args.seed}, {args.threads} thread(s), {args.per_class} samples per class, "
             f"holdout fraction {args.holdout} (the same held-out patients for every variant).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        o, pc = r["overall"], r["per_class"]
        worst = max(pc, key=lambda c: (pc[c]["class_leak"] or 0) - 2 * (pc[c]["real_misclass"] or 0))
        min_recall = min((g["recall"] for g in pc.values() if g["recall"] is not None), default=None)
        cells = [r["variant"], *(_f(o[k]) for k in COLUMNS),
                 f"{worst}: {_f(pc[worst]['class_leak'])} / {_f(pc[worst]['real_misclass'])}", _f(min_recall),
                 str(r.get("steps", args.steps)), _f(r["cpu_minutes"])]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def strip(images: torch.Tensor) -> "np.ndarray":
    """One row of images side by side, as a uint8 array."""
    return image_grid(images, len(images))


def montage(run_dirs: list[Path], path: Path, per_class: int = 2, seed: int = 0) -> Path:
    """One figure: a column per ablation folder, a row per variant any of them ran (real images first),
    ``per_class`` each."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["real"] + [v for v in VARIANTS if any((d / v / "row.json").is_file() for d in run_dirs)]
    fig, axes = plt.subplots(len(names), len(run_dirs), figsize=(4.2 * len(run_dirs), 0.9 * len(names)), squeeze=False)
    for j, run_dir in enumerate(run_dirs):
        spec = json.loads((run_dir / "ablation.json").read_text())["data"]
        for i, name in enumerate(names):
            ax = axes[i][j]
            ax.set_axis_off()
            row = _montage_row(run_dir, name, spec, per_class, seed)
            if row is not None:
                ax.imshow(row, cmap="gray", vmin=0, vmax=255)
                ax.text(-4, row.shape[0] / 2, name, ha="right", va="center", fontsize=7)
            if i == 0:
                ax.set_title(spec, fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110)
    plt.close(fig)
    return path


def _montage_row(run_dir: Path, name: str, spec: str, per_class: int, seed: int) -> "np.ndarray | None":
    if name == "real":
        first = next((run_dir / v / "run" for v in VARIANTS if (run_dir / v / "row.json").is_file()), None)
        if first is None:
            return None
        sampler = load_generator(first)
        data = prepare_tensors(load_data(spec), image_size=sampler.image_size)
        _, holdout, _ = split_real(data, sampler.meta, seed=seed)
        picks = [holdout.images[holdout.labels == c][:per_class] for c in range(len(holdout.class_names))]
        return strip(torch.cat(picks))
    if not (run_dir / name / "row.json").is_file():
        return None
    sampler = load_generator(run_dir / name / "run")
    return strip(torch.cat([sampler.sample_class(c, per_class, seed=seed) for c in range(sampler.num_classes)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="data spec (phantom, phantom:roi=64, a folder ...)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, from {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=600, help="GAN steps per variant (default 600)")
    parser.add_argument("--cpu-minutes", type=float, default=0.0,
                        help="equal-CPU comparison: each variant gets the steps this many CPU-minutes buy it "
                             "(probed per variant; overrides --steps)")
    parser.add_argument("--per-class", type=int, default=100, help="synthetic images per class (default 100)")
    parser.add_argument("--holdout", type=float, default=0.3, help="held-out patient fraction (default 0.3)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-size", type=int, default=64, help="side of the square images (default 64)")
    parser.add_argument("--fast", action="store_true", help="rougher, faster quality numbers (tests, previews)")
    parser.add_argument("--montage", nargs="+", metavar="ABLATION_DIR",
                        help="instead of training: draw the samples of these finished ablations into --out (a PNG)")
    args = parser.parse_args(argv)
    if args.montage:
        print(montage([Path(d) for d in args.montage], Path(args.out)))
        return 0
    names = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = [v for v in names if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {', '.join(VARIANTS)}")
    if not args.data:
        parser.error("--data is required (except with --montage)")
    torch.set_num_threads(args.threads)
    data = prepare_tensors(load_data(args.data), image_size=args.image_size)
    out = Path(args.out)
    for name in names:
        print(f"[{time.strftime('%H:%M:%S')}] {name}", flush=True)
        run_variant(name, VARIANTS[name], data, args.data, out / name, args)
        rows = [json.loads((out / v / "row.json").read_text()) for v in VARIANTS if (out / v / "row.json").is_file()]
        atomic_save_json(out / "ablation.json", {"data": args.data, "steps": args.steps,
                                                  "cpu_minutes": args.cpu_minutes, "rows": rows})
        atomic_write_text(out / "ablation.md", table(rows, args.data, args))
    print(table(rows, args.data, args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

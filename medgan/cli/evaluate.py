"""``medgan evaluate``: quality report (fidelity, diversity, memorization, views) of a trained generator."""
from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np
import torch

from medgan.data import grouped_split, load_data, prepare_tensors
from medgan.errors import ConfigError, DataError
from medgan.evaluation import evaluate_quality, quality_summary_markdown, quality_warnings
from medgan.synthesis import load_generator
from medgan.utils.config import check_range
from medgan.utils.paths import ensure_output_dir

__all__ = ["register", "run", "split_real"]


def register(subparsers) -> None:
    """Add the ``evaluate`` subcommand."""
    p = subparsers.add_parser(
        "evaluate",
        help="measure synthetic-image quality: FID/MMD/precision/recall/density/coverage, MS-SSIM diversity, "
        "memorization, correlation + UMAP views, real-vs-synthetic test",
        description="Sample a trained generator and compare its images with the real data: writes "
        "OUT/quality.json, OUT/quality.md and PNG figures. Held-out real images are the patients recorded "
        "in the checkpoint as never seen by the GAN.",
    )
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="generator export or run directory")
    p.add_argument("--data", required=True, metavar="SPEC", help="the dataset the generator was trained on")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder for quality.json/.md + figures")
    p.add_argument("--per-class", type=int, default=100, metavar="N", help="synthetic images per class (default 100)")
    p.add_argument("--seed", type=int, default=0, help="seed for sampling, feature extractor, splits (default 0)")
    p.add_argument("--features", choices=("trained", "random"), default="trained",
                   help="primary feature extractor (the other one is reported as a cross-check)")
    p.add_argument("--fast", action="store_true", help="quick, rougher numbers (fewer epochs/pairs, no UMAP)")
    p.add_argument("--no-figures", action="store_true", help="write only quality.json/quality.md")
    p.set_defaults(func=run)


def split_real(prepared, meta: dict[str, Any], seed: int = 0):
    """Split prepared real data into (train, holdout, notes) following the generator's recorded patients.

    Holdout = images whose patient is in ``meta["holdout_patients"]``; train = ``meta["train_patients"]``
    (or everything else). Without usable holdout patients, falls back to a patient-grouped split and says
    so in the notes (the GAN has then seen the "held-out" images).
    """
    patients = np.asarray([str(p) for p in prepared.patients])
    holdout_ids = {str(p) for p in (meta.get("holdout_patients") or [])}
    train_ids = {str(p) for p in (meta.get("train_patients") or [])}
    notes: list[str] = []
    if not holdout_ids and train_ids:  # e.g. a benchmark fold's GAN: every patient it did not train on is unseen
        holdout_ids = set(patients.tolist()) - train_ids
    ho_idx = np.flatnonzero(np.isin(patients, list(holdout_ids))) if holdout_ids else np.zeros(0, dtype=int)
    if ho_idx.size >= 2:
        if train_ids:
            tr_idx = np.flatnonzero(np.isin(patients, list(train_ids)))
            unknown = len(patients) - tr_idx.size - ho_idx.size
            if unknown:
                notes.append(f"{unknown} images belong to patients recorded neither as training nor as held-out; ignored")
        else:
            tr_idx = np.setdiff1d(np.arange(len(patients)), ho_idx)
        notes.append(f"held-out real images: {ho_idx.size} images of {len(set(patients[ho_idx]))} patients the GAN never saw")
    else:
        why = "the checkpoint records no held-out patients" if not holdout_ids else \
            "none of the checkpoint's held-out patients are in this data"
        tr_idx, ho_idx = grouped_split(prepared.labels.numpy(), patients, test_fraction=0.25, seed=seed,
                                       class_names=prepared.class_names)
        notes.append(f"{why}: fell back to a patient-grouped 75/25 split of the data. The GAN HAS SEEN these "
                     "'held-out' images, so memorization and fidelity are measured against training data")
    return prepared.subset(tr_idx), prepared.subset(ho_idx), notes


def run(args: argparse.Namespace) -> int:
    """Load generator + data, sample, evaluate, write the report."""
    ensure_output_dir(args.out, "--out")
    if args.per_class < 2:
        raise ConfigError(f"--per-class must be >= 2, got {args.per_class}", "e.g. --per-class 100")
    check_range("--seed", args.seed, 0, 2 ** 31 - 1, example="0")
    torch.manual_seed(args.seed)  # entry point: seed the world (library code uses explicit generators)
    sampler = load_generator(Path(args.checkpoint))
    data = load_data(args.data)
    prepared = prepare_tensors(data, image_size=int(sampler.image_size), window=sampler.window)
    gen_names, data_names = list(sampler.class_names), list(prepared.class_names)
    if set(gen_names) != set(data_names):
        raise DataError(f"the generator's classes {gen_names} do not match the data's classes {data_names}",
                        "evaluate with the dataset the generator was trained on")
    meta = dict(getattr(sampler, "meta", {}) or {})
    real_train, real_holdout, notes = split_real(prepared, meta, seed=args.seed)
    images, labels = [], []
    for c, name in enumerate(data_names):  # sample by name: the class order may differ
        x = sampler.sample_class(name, int(args.per_class), seed=args.seed * 1000 + c)
        images.append(x.detach().float().cpu())
        labels.append(torch.full((x.shape[0],), c, dtype=torch.long))
    context = {"checkpoint": str(args.checkpoint), "data": args.data, "per_class": int(args.per_class),
               "window": getattr(sampler.window, "name", str(sampler.window))}
    result = evaluate_quality(real_train, real_holdout, torch.cat(images), torch.cat(labels), out_dir=Path(args.out),
                              seed=args.seed, figures=not args.no_figures, feature_kind=args.features,
                              fast=args.fast, notes=notes, context=context)
    print(quality_summary_markdown(result))
    for warning in quality_warnings(result):
        print(f"warning: {warning}")
    for note in result["notes"]:
        print(f"note: {note}")
    print(f"wrote {Path(args.out) / 'quality.json'} and {Path(args.out) / 'quality.md'} ({result['seconds']} s)")
    return 0

"""``medgan synthesize``: write labelled synthetic images (NIfTI/PNG) + a MONAI datalist + a preview."""
from __future__ import annotations

import argparse
import math
import sys

import numpy as np

from medgan.data import load_data, prepare_tensors
from medgan.errors import ConfigError
from medgan.evaluation.memorization import find_near_copies
from medgan.synthesis import load_generator, synthesize_to_dir
from medgan.utils.config import check_range
from medgan.utils.lock import output_lock
from medgan.utils.paths import ensure_output_dir


def register(subparsers) -> None:
    """Add the ``synthesize`` subcommand."""
    p = subparsers.add_parser(
        "synthesize",
        help="write synthetic labelled images (NIfTI or PNG) plus a MONAI datalist",
        description="Sample N images per class from a trained generator. NIfTI images hold native units "
        "(HU for HU-trained models, 0..255 for 8-bit ones) and the pixel spacing; PNG images are the window as "
        "8-bit. DIR/datalist.json is readable by monai.data.load_decathlon_datalist + LoadImaged. Re-running the "
        "same command completes an interrupted run.",
    )
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="run directory, generator.json or bundle dir")
    p.add_argument("--per-class", type=int, required=True, metavar="N", help="images per class")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--format", choices=("nifti", "png"), default="nifti", help="image format (default nifti)")
    p.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    p.add_argument("--device", default="auto", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--batch-size", type=int, default=64, help="generator batch size (default 64)")
    p.add_argument("--drop-near-copies", type=float, default=None, metavar="THRESHOLD",
                   help="drop candidates within THRESHOLD RMS pixel distance ([-1,1] units, e.g. 0.02 for "
                   "near-exact copies) of a training image and draw replacements; needs --data")
    p.add_argument("--data", metavar="SPEC", help="the training data spec (for --drop-near-copies); restricted to "
                   "the generator's recorded training patients when they are recorded")
    p.add_argument("--codes", metavar="C1,C2,...", help="InfoGAN generators: set every image's latent codes "
                   "(one value per code, each in [-1, 1] as in training); default: drawn per image")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def near_copy_filter(sampler, spec: str, threshold: float):
    """``f(images, class) -> mask`` of candidates within ``threshold`` of a training image of ``spec``."""
    data = load_data(spec)
    train_patients = sampler.meta.get("train_patients")
    if train_patients:
        keep = np.flatnonzero(np.isin(data.patients, np.asarray(train_patients, dtype=str)))
        if keep.size == 0:
            raise ConfigError(f"none of the generator's training patients are in {spec!r}",
                              "pass the data the generator was trained on")
        data = data.subset(keep)
    train = prepare_tensors(data, image_size=sampler.image_size, window=sampler.window).images

    def drop(images, cls: int):
        return find_near_copies(images, train, threshold)

    return drop


def parse_codes(text: str, n_codes: int) -> list[float]:
    """``"0.5,-1"`` -> ``[0.5, -1.0]``, checked against the generator's number of InfoGAN codes."""
    if not n_codes:
        raise ConfigError("--codes needs an InfoGAN generator; this one has no latent codes",
                          "drop --codes, or train with --config '{\"info_codes\": 3}'")
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise ConfigError(f"--codes {text!r} is not a comma-separated list of numbers", "e.g. --codes 0.5,-1,0") from None
    if len(values) != n_codes or not all(math.isfinite(v) for v in values):
        raise ConfigError(f"--codes needs {n_codes} finite value(s), got {text!r}",
                          f"e.g. --codes {','.join(['0'] * n_codes)} (training drew each from [-1, 1])")
    return values


def run(args: argparse.Namespace) -> int:
    """Check the options, load the generator, write the images + datalist (the folder locked meanwhile)."""
    ensure_output_dir(args.out, "--out")
    check_range("--per-class", args.per_class, 1, example="100")
    check_range("--batch-size", args.batch_size, 1, example="64")
    check_range("--drop-near-copies", args.drop_near_copies, 0, example="0.02")
    if args.drop_near_copies is not None and not args.data:
        raise ConfigError("--drop-near-copies needs the training data to compare with",
                          "add --data SPEC (the spec the generator was trained on)")
    sampler = load_generator(args.checkpoint, device=args.device)
    drop = near_copy_filter(sampler, args.data, args.drop_near_copies) if args.drop_near_copies is not None else None
    codes = parse_codes(args.codes, sampler.info_codes) if args.codes else None
    with output_lock(args.out, "--out"):
        path = synthesize_to_dir(sampler, args.out, args.per_class, fmt=args.format, seed=args.seed,
                                 batch_size=args.batch_size, progress=not args.no_progress, drop_filter=drop,
                                 codes=codes)
    n = args.per_class * sampler.num_classes
    print(f"wrote {n} {args.format} images ({', '.join(sampler.class_names)}) and {path}", file=sys.stderr)
    return 0

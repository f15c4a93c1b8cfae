"""``medgan train``: train a GAN on a dataset spec and write a run directory (thin over medgan.training)."""
from __future__ import annotations

import argparse
import os
from pathlib import Path

import torch

from medgan.data import load_data, prepare_tensors
from medgan.models.registry import MODELS
from medgan.training import TrainConfig, train
from medgan.training.config import read_config_json
from medgan.utils.config import check_range
from medgan.utils.paths import ensure_output_dir

#: CLI flag -> TrainConfig field (only flags the user actually passes override the config file).
OVERRIDES = {"model": "model", "image_size": "image_size", "steps": "steps", "batch_size": "batch_size",
             "seed": "seed", "device": "device", "amp": "amp", "threads": "num_threads"}


def _amp_value(text: str) -> bool | str:
    """``--amp`` value: auto | on | off (also true/false/yes/no/1/0)."""
    value = text.strip().lower()
    if value == "auto":
        return "auto"
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise argparse.ArgumentTypeError(f"invalid --amp value {text!r}: use auto, on or off")


def register(subparsers) -> None:
    """Add the ``train`` subcommand."""
    p = subparsers.add_parser(
        "train", help="train a GAN (default: FastGAN-style; or per-class DCGAN, conditional GAN); writes samples, log, checkpoints, export",
        description="Train a GAN on labelled slices. The run directory gets config.json, log.csv, "
        "samples/step_XXXXXX.png, checkpoints/last.pt and generator.safetensors + generator.json. "
        "Multi-process: torchrun --nproc_per_node=N -m medgan train ...")
    p.add_argument("--data", required=True, metavar="SPEC", help="dataset spec, e.g. 'phantom' or a class-per-folder dir")
    p.add_argument("--out", required=True, metavar="RUN_DIR", help="run directory")
    p.add_argument("--model", choices=MODELS, default=None,
                   help="fastgan (default: skip-layer excitation, self-supervised D), cgan (projection cGAN) "
                        "or dcgan (one per class)")
    p.add_argument("--image-size", type=int, default=None, help="64 (default) or 128")
    p.add_argument("--steps", type=int, default=None, help="generator updates (default 1800 for fastgan, 3000 for cgan/dcgan)")
    p.add_argument("--batch-size", type=int, default=None, help="images per step per process (default 32)")
    p.add_argument("--seed", type=int, default=None, help="seed for weights, noise, batches (default 0)")
    p.add_argument("--window", metavar="PRESET|L,W", help="intensity window for HU data, e.g. abdomen or 40,80")
    p.add_argument("--units", choices=("HU",), help="declare 16-bit PNG/TIFF values to be Hounsfield units")
    p.add_argument("--config", metavar="JSON", help="TrainConfig fields as JSON (flags given here override it)")
    p.add_argument("--resume", action="store_true", help="continue RUN_DIR/checkpoints/last.pt (same options + data)")
    p.add_argument("--device", default=None, help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--amp", nargs="?", const=True, default=None, type=_amp_value, metavar="auto|on|off",
                   help="bfloat16 autocast: --amp auto (default: on where the device has native bfloat16, "
                   "a bf16 GPU or a CPU with avx512_bf16/amx_bf16), --amp / --amp on, --amp off")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """TrainConfig from --config (or RUN/config.json when resuming) plus the flags given."""
    base: dict = {}
    source = args.config or (Path(args.out) / "config.json" if args.resume and (Path(args.out) / "config.json").is_file() else None)
    if source:
        base = TrainConfig.from_json(source).to_dict() if args.config else read_config_json(source)
        base.pop("class_names", None)
    for flag, field in OVERRIDES.items():
        value = getattr(args, flag, None)
        if value is not None:
            base[field] = value
    return TrainConfig.from_dict(base)


def run(args: argparse.Namespace) -> int:
    """Load data, build the config, train, print where things are."""
    ensure_output_dir(args.out, "--out")
    check_range("--threads", args.threads, 0, example="0 (torch's choice) or 4")
    config = build_config(args)
    torch.manual_seed(config.seed)  # entry points may seed the world; the library uses its own generators
    options = {"units": args.units} if args.units else {}
    data = prepare_tensors(load_data(args.data, **options), image_size=config.image_size, window=args.window)
    out = train(config, data, args.out, resume=args.resume, progress=not args.quiet)
    if int(os.environ.get("RANK", "0")) == 0:
        print(f"run:       {out}")
        print(f"samples:   {out / 'samples'}")
        print(f"generator: {out / 'generator.json'} (+ generator.safetensors)")
    return 0

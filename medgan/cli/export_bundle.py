"""``medgan export-bundle``: package a trained generator as a MONAI bundle."""
from __future__ import annotations

import argparse
import sys

from medgan.synthesis.bundle import export_bundle
from medgan.utils.paths import ensure_output_dir


def register(subparsers) -> None:
    """Add the ``export-bundle`` subcommand."""
    p = subparsers.add_parser(
        "export-bundle",
        help="write a MONAI bundle (configs/metadata.json, configs/inference.json, models/model.pt, docs/README.md)",
        description="Package a generator export as a MONAI bundle. Run it with "
        "`python -m monai.bundle run --config_file DIR/configs/inference.json` (writes labelled samples to "
        "DIR/eval; override --output_dir, --num_samples_per_class, --output_format, --bundle_root).",
    )
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="run directory or generator.json")
    p.add_argument("--out", required=True, metavar="DIR", help="bundle folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    ensure_output_dir(args.out, "--out")
    root = export_bundle(args.checkpoint, args.out)
    print(f"wrote MONAI bundle {root}\n  run: python -m monai.bundle run --config_file {root}/configs/inference.json",
          file=sys.stderr)
    return 0

"""``medgan compare RUN_A RUN_B``: two finished benchmark runs arm by arm on the same test images (B minus A)."""
from __future__ import annotations

import argparse
from pathlib import Path

from medgan.benchmark.compare import compare_runs, comparison_markdown
from medgan.utils.atomic import atomic_write_text


def register(subparsers) -> None:
    """Add the ``compare`` subcommand."""
    p = subparsers.add_parser(
        "compare",
        help="compare two finished benchmark runs arm by arm on the same test images (B minus A)",
        description="For runs that share data, seed, folds and repeats and differ in one option (e.g. "
        "--synthetic-filter): per arm and metric the paired patient-cluster bootstrap difference B - A with its "
        "95 %% CI and the corrected t-test interval, from the saved per-fold predictions (nothing is retrained).",
    )
    p.add_argument("run_a", type=Path, metavar="RUN_A", help="reference benchmark folder (--out of medgan benchmark)")
    p.add_argument("run_b", type=Path, metavar="RUN_B", help="benchmark folder compared with it")
    p.add_argument("--out", type=Path, metavar="FILE", help="also write the markdown table to FILE")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap replicates (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the comparison table (and write it with ``--out``)."""
    text = comparison_markdown(compare_runs(args.run_a, args.run_b, args.n_boot, args.seed))
    print(text)
    if args.out:
        atomic_write_text(args.out, text)
        print(f"wrote {args.out}")
    return 0

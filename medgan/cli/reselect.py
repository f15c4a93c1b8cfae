"""``medgan reselect RUN --rule one-se --out NEW``: a finished run's headline arm chosen again by another rule."""
from __future__ import annotations

import argparse
from pathlib import Path

from medgan.benchmark.reselect import reselect_run
from medgan.benchmark.selection import SELECTION_RULES
from medgan.utils.lock import output_lock
from medgan.utils.paths import ensure_output_dir


def register(subparsers) -> None:
    """Add the ``reselect`` subcommand."""
    p = subparsers.add_parser(
        "reselect",
        help="choose a finished benchmark run's selected arm again by another selection rule (nothing retrained)",
        description="Every candidate of the selected arm (baseline, each synthetic use) is scored in every fold; "
        "this copies RUN to --out (without its GAN checkpoints), re-chooses each fold's selected arm by --rule on "
        "the saved validation scores and rewrites results.json and report.md. Compare with `medgan compare RUN NEW`.",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="finished benchmark folder (--out of medgan benchmark)")
    p.add_argument("--rule", required=True, choices=SELECTION_RULES,
                   help="best: highest validation metric; one-se: the baseline unless a synthetic use beats it by "
                   "more than one standard error")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="new folder for the re-selected run")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the re-selected run and print its headline."""
    ensure_output_dir(args.out, "--out")
    with output_lock(args.out, "--out"):
        results = reselect_run(args.run, args.out, args.rule, log=lambda s: print(s, flush=True))
    for p in results["primary_endpoint"].values():
        print(f"{p['arm']}: chose {', '.join(p.get('selected_uses') or []) or 'n/a'}")
    return 0

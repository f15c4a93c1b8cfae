"""Compare two finished benchmark folders arm by arm on the same test images (B minus A).

For runs that differ in one option and share data, seed, folds and repeats, e.g. the synthetic filter::

    python pipelines/compare_runs.py docs/results/benchmark_head_ct_rerun docs/results/benchmark_head_ct_filter \
        --out docs/results/benchmark_head_ct_filter/compared_with_unfiltered.md

Prints (and with ``--out`` writes atomically) a markdown table: per arm and metric the paired
patient-cluster bootstrap difference with its 95 % CI and the corrected t-test interval.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from medgan.benchmark.compare import compare_runs, comparison_markdown
from medgan.errors import MedganError
from medgan.utils.atomic import atomic_write_text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("a", type=Path, help="reference benchmark folder")
    p.add_argument("b", type=Path, help="benchmark folder compared with it")
    p.add_argument("--n-boot", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, help="also write the table to this markdown file")
    args = p.parse_args(argv)
    try:
        text = comparison_markdown(compare_runs(args.a, args.b, args.n_boot, args.seed))
    except MedganError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.out:
        atomic_write_text(args.out, text)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Run the downstream benchmark from a config file (the same as ``medgan benchmark``).

Usage::

    python pipelines/benchmark.py --config pipelines/configs/benchmark_quick.json --out runs/bench_quick
    python pipelines/benchmark.py --config pipelines/configs/benchmark_phantom.json --out docs/results/benchmark_phantom
    python pipelines/benchmark.py --config pipelines/configs/benchmark_head_ct.json --out docs/results/benchmark_head_ct

Rerunning the same command resumes: finished folds under ``OUT/folds/`` are loaded, not recomputed.
"""
from __future__ import annotations

import argparse
import os
import sys


def main(argv: list[str] | None = None) -> int:
    """Parse ``--config``/``--out`` (+ optional ``--device``), then run :func:`medgan.benchmark.run_benchmark`."""
    import torch

    from medgan.benchmark.config import load_config
    from medgan.benchmark.protocol import run_benchmark
    from medgan.errors import MedganError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="benchmark config JSON (pipelines/configs/benchmark_*.json)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--device", help="override the config's device (auto, cpu, cuda)")
    parser.add_argument("--workers", type=int, default=0,
                        help="folds run at once in separate processes (default 0: auto, see medgan benchmark --help)")
    parser.add_argument("--no-progress", action="store_true")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
        if args.device:
            from dataclasses import replace

            cfg = replace(cfg, device=args.device)
        torch.set_num_threads(os.cpu_count() or 1)
        torch.manual_seed(cfg.seed)
        command = f"python pipelines/benchmark.py --config {args.config} --out {args.out}"
        run_benchmark(cfg, args.out, progress=not args.no_progress, command=command, workers=args.workers)
    except MedganError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  fix: {exc.hint}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""medgan.benchmark: does synthetic data raise a classifier's sensitivity and specificity?

Quick use::

    from medgan.benchmark import quick_config, run_benchmark
    results = run_benchmark(quick_config(data="phantom"), "runs/bench_quick")
    print(results["primary_endpoint"])

See docs/benchmark.md for the protocol, the arms and the statistics.
"""
from medgan.benchmark.classifier import ClassifierConfig
from medgan.benchmark.config import BenchmarkConfig, config_from_dict, default_config, load_config, quick_config
from medgan.benchmark.protocol import run_benchmark

__all__ = [
    "BenchmarkConfig",
    "ClassifierConfig",
    "config_from_dict",
    "default_config",
    "load_config",
    "quick_config",
    "run_benchmark",
]

"""The ``medgan`` console entry point: a thin layer over the Python API.

Each subcommand lives in its own module ``medgan/cli/<name>.py`` exposing
``register(subparsers) -> None``; the parser it adds sets ``func(args) -> int``.
Expected user errors (:class:`medgan.errors.MedganError`) print one clear message and exit 2.
"""
from __future__ import annotations

import argparse
import importlib
import sys

from medgan._version import __version__
from medgan.errors import MedganError
from medgan.training.distributed import exit_process

#: Subcommand modules, in the order ``medgan --help`` lists them (pipeline order).
COMMAND_MODULES = ("data", "train", "synthesize", "evaluate", "benchmark", "compare", "reselect", "export_bundle")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with every available subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="medgan",
        description="Train GANs on labelled CT slices, synthesize labelled samples, "
        "evaluate them, and benchmark whether they help a classifier.",
    )
    parser.add_argument("--version", action="version", version=f"medgan {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"medgan.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name == f"medgan.cli.{name}":
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit status (a torchrun worker exits here, see ``exit_process``)."""
    code = _run(argv)
    exit_process(code)
    return code


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 1
    try:
        return int(args.func(args) or 0)
    except MedganError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  fix: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

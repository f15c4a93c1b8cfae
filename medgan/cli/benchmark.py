"""``medgan benchmark``: does synthetic data raise a classifier's sensitivity and specificity?"""
from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace

import torch

from medgan.benchmark.arms import CONTROLS, USES
from medgan.benchmark.config import SYNTHETIC_FILTERS, config_from_dict, load_config
from medgan.benchmark.executors import check_cluster, idle_core_count
from medgan.benchmark.protocol import run_benchmark
from medgan.benchmark.selection import SELECTION_RULES
from medgan.data.loaders import with_patient_regex
from medgan.models.registry import MODELS
from medgan.utils.config import check_range
from medgan.utils.lock import output_lock
from medgan.utils.paths import ensure_output_dir


def _ratios(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--ratios takes comma-separated numbers, got {text!r}") from exc


def _names(flag: str, allowed: tuple[str, ...], none_ok: bool):
    """A parser of comma-separated names from ``allowed`` (``none``: the empty list where ``none_ok``)."""
    def parse(text: str) -> tuple[str, ...]:
        names = tuple(x.strip() for x in text.split(",") if x.strip())
        if none_ok and names == ("none",):
            return ()
        bad = [n for n in names if n not in allowed]
        if bad or not names:
            raise argparse.ArgumentTypeError(
                f"{flag} takes comma-separated names from {', '.join(allowed)}{' (or none)' if none_ok else ''}, "
                f"got {text!r}")
        return names
    return parse


def _fractions(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--real-fractions takes comma-separated numbers in (0, 1], got {text!r}") from exc


def _add_scenario_options(p: argparse.ArgumentParser) -> None:
    """Scenario, control and synthetic-use flags (issue 16)."""
    p.add_argument("--real-fractions", type=_fractions, metavar="F,...",
                   help="learning curve: per fraction every arm (its GAN too) uses that patient-grouped, "
                   "class-stratified share of each training fold; test folds stay whole, e.g. 0.25,1 (default 1)")
    p.add_argument("--rare-class", metavar="NAME",
                   help="rare-class scenario: training folds keep only --rare-fraction of this class's patients; "
                   "the report puts its sensitivity first")
    p.add_argument("--rare-fraction", type=float, help="share of the rare class's patients kept (default 0.2)")
    p.add_argument("--controls", type=_names("--controls", tuple(CONTROLS), True), metavar="NAMES",
                   help=f"non-GAN controls, comma-separated from {', '.join(CONTROLS)} or none "
                   "(presets: all three); the headline compares with the best of them on inner validation")
    p.add_argument("--uses", type=_names("--uses", tuple(USES), False), metavar="NAMES",
                   help=f"ways to use synthetic images, comma-separated from {', '.join(USES)} (presets: all)")
    p.add_argument("--selection-rule", choices=SELECTION_RULES,
                   help="how inner validation picks the headline arm: best (highest validation metric) or one-se (the "
                   "baseline unless a synthetic use beats it by more than one standard error); see docs/benchmark.md")


def register(subparsers) -> None:
    """Add the ``benchmark`` subcommand."""
    p = subparsers.add_parser(
        "benchmark",
        help="downstream benchmark: classifier sensitivity/specificity with and without synthetic data",
        description="Patient-grouped K-fold x repeats on real data; per fold a GAN trains on the training part "
        "only; arms: baseline (classic augmentation), non-GAN controls (duplicated real images, class-weighted "
        "loss, strong augmentation + MixUp), real + synthetic (mix at each ratio, balance, pretrain), synthetic "
        "only, and the use chosen on inner validation; scenarios: learning curve (--real-fractions) and rare "
        "class (--rare-class). Writes DIR/results.json, DIR/report.md and figures; resumable.",
    )
    p.add_argument("--data", default=None, metavar="SPEC", help="dataset spec (default: phantom)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (rerun the same command to resume)")
    p.add_argument("--config", metavar="JSON", help="benchmark config file (options below override it)")
    p.add_argument("--quick", action="store_true", help="small preset: 2 folds x 1 repeat, few epochs, short GANs")
    p.add_argument("--folds", type=int, help="outer folds K (default 5)")
    p.add_argument("--repeats", type=int, help="repeats R with different splits (default 2)")
    p.add_argument("--ratios", type=_ratios, help="synthetic:real per class, comma-separated (default 0,0.5,1,2)")
    p.add_argument("--model", choices=(*MODELS, "both"),
                   help="GAN kind (default fastgan; both: cgan and dcgan as separate arms)")
    p.add_argument("--image-size", type=int, help="square image side (default 64)")
    p.add_argument("--window", metavar="PRESET|L,W", help="intensity window for HU data, e.g. brain or 40,80")
    p.add_argument("--positive-class", metavar="NAME",
                   help="positive class of a binary task (default: the class not named like a negative, e.g. covid "
                   "beside noncovid or normal; `medgan data` shows the choice)")
    p.add_argument("--patient-regex", metavar="REGEX",
                   help="folder data: patient id = first (...) group of REGEX searched in each file's path below its "
                   "class folder (adds patient_regex=REGEX to the data spec; see docs/data.md)")
    p.add_argument("--threshold", choices=("youden", "target_sensitivity", "fixed"), help="operating point rule")
    p.add_argument("--target-sensitivity", type=float, help="for --threshold target_sensitivity (default 0.9)")
    p.add_argument("--synthetic-filter", choices=SYNTHETIC_FILTERS,
                   help="baseline: keep synthetic images the fold's baseline classifier calls as their own class; "
                   "confidence: keep those whose own-class probability reaches the 20th percentile of real "
                   "validation images'; proximity: keep those whose nearest real image (classifier features) is "
                   "as far as real images' own nearest neighbours (drops near-copies and outliers); default none")
    _add_scenario_options(p)
    p.add_argument("--epochs", type=int, help="classifier epoch budget (default 30, quick 10)")
    p.add_argument("--gan-steps", type=int, help="GAN steps per fold (default: the trainer's default)")
    p.add_argument("--seed", type=int, help="master seed (default 0)")
    p.add_argument("--device", help="auto (default), cpu, cuda, cuda:N")
    p.add_argument("--threads", type=int, default=0,
                   help="torch CPU threads (default: the idle cores -- all cores on an idle machine, fewer when "
                   "others are busy: oversubscribed threads made training 10-40x slower here)")
    p.add_argument("--workers", type=int, default=0,
                   help="folds run at once, each in its own process (default 0: auto -- on CPU one 1-thread worker "
                   "per idle core, started as cores free up (two 1-thread GAN trainings made 20 %% more steps/s "
                   "than one 2-thread one on a 2-core AVX-512 CPU); on a GPU up to 8 folds share the card)")
    p.add_argument("--cluster", metavar="auto|ADDRESS|FILE.json",
                   help="run each fold as a Dask task: auto starts a local cluster (--workers 1-thread workers, "
                   "default the idle cores); tcp://HOST:8786 or a scheduler file joins a running one, e.g. on "
                   "Slurm (needs pip install 'medgan[cluster]'; docs/benchmark.md#where-folds-run---workers-and---cluster)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):
    """BenchmarkConfig from a config file / preset plus the command-line overrides."""
    if args.config:
        cfg = load_config(args.config)
        if args.quick:
            cfg = config_from_dict({**cfg.to_dict(), "preset": "quick"})
    else:
        cfg = config_from_dict({"preset": "quick" if args.quick else "default"})
    over = {
        "data": args.data, "folds": args.folds, "repeats": args.repeats, "ratios": args.ratios,
        "image_size": args.image_size, "window": args.window, "positive_class": args.positive_class,
        "threshold": args.threshold, "target_sensitivity": args.target_sensitivity, "gan_steps": args.gan_steps,
        "seed": args.seed, "device": args.device, "synthetic_filter": args.synthetic_filter,
        "real_fractions": args.real_fractions, "rare_class": args.rare_class, "rare_fraction": args.rare_fraction,
        "controls": args.controls, "synthetic_uses": args.uses, "selection_rule": args.selection_rule,
    }
    over = {k: v for k, v in over.items() if v is not None}
    if args.patient_regex is not None:
        over["data"] = with_patient_regex(over.get("data", cfg.data), args.patient_regex)
    if args.model:
        over["models"] = ("cgan", "dcgan") if args.model == "both" else (args.model,)
    if args.epochs is not None:
        over["classifier"] = replace(cfg.classifier, epochs=args.epochs)
    return replace(cfg, **over).validate()


def run(args: argparse.Namespace) -> int:
    """Run or resume the benchmark and print where the results are."""
    check_range("--threads", args.threads, 0, example="0 (auto) or 4")
    check_range("--workers", args.workers, 0, example="0 (auto) or 2")
    if args.cluster:
        check_cluster(args.cluster)
    ensure_output_dir(args.out, "--out")
    cfg = build_config(args)
    torch.set_num_threads(args.threads or idle_core_count())
    torch.manual_seed(cfg.seed)  # entry point: seed the world (the library itself uses explicit seeds)
    command = "medgan " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["benchmark"] else None
    with output_lock(args.out, "--out"):
        results = run_benchmark(cfg, args.out, progress=not args.no_progress, log=lambda s: print(s, flush=True),
                                command=command, workers=args.workers,
                                cluster=args.cluster)
    def pts(d: dict) -> str:
        f = lambda v: "n/a" if v is None else f"{100 * v:+.1f}"  # noqa: E731
        return f"{f(d['mean'])} points [95 % CI {f(d['ci95'][0])}, {f(d['ci95'][1])}]"

    for p in results["primary_endpoint"].values():
        for ep in (p, p.get("vs_best_control")):
            if ep:
                print(f"primary endpoint ({p['arm']} vs {ep['comparator']}): sensitivity "
                      f"{pts(ep['sensitivity_difference'])}, specificity {pts(ep['specificity_difference'])}")
    t = results["timing"]
    print(f"wall time {t['total_seconds']:.0f} s (GAN {t['gan_seconds']:.0f} s, classifiers "
          f"{t['classifier_seconds']:.0f} s, per fold {t['mean_fold_seconds']:.0f} s)")
    return 0

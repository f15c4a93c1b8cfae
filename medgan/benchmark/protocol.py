"""The benchmark protocol: patient-grouped folds x repeats x arms, resumable, with a progress bar.

``run_benchmark(config, out_dir)`` loads and prepares the data, audits near-duplicates (merged into
pseudo-patients before splitting), draws ``repeats`` patient-grouped stratified K-fold splits, runs every
fold (:func:`medgan.benchmark.fold.run_fold`) and saves each finished fold atomically as
``DIR/folds/r<R>_f<F>.json``. A rerun with the same options skips finished folds. Finally it aggregates
(``results.json``) and writes ``report.md`` with figures.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from medgan.benchmark.aggregate import aggregate
from medgan.benchmark.arms import SELECTED, planned_arms
from medgan.benchmark.compare import read_results
from medgan.benchmark.config import BenchmarkConfig, looks_negative
from medgan.benchmark.confound import confound_check
from medgan.benchmark.executors import FoldInputs, check_cluster, default_workers, run_local, run_on_cluster
from medgan.benchmark.fold import run_fold
from medgan.benchmark.leakage import audit, cross_split_duplicates
from medgan.benchmark.plan import check_plan, fold_seed, plan_splits  # noqa: F401 -- plan_splits re-exported
from medgan.benchmark.report import write_report
from medgan.benchmark.synthetic import default_gan_factory
from medgan.data import load_data, prepare_tensors
from medgan.errors import ConfigError, DataError
from medgan.utils import atomic_path, atomic_save_json
from medgan.utils.device import resolve_device


def resolve_positive(class_names: list[str], positive_class: str | None) -> int | None:
    """Index of the positive class of a binary task (None for multi-class tasks).

    Without ``positive_class``: the class whose partner looks negative (:func:`looks_negative`:
    ``normal``, ``noncovid``, ``no_tumor`` ...), else class 1 (see :func:`positive_choice` for the reason).
    """
    return positive_choice(class_names, positive_class)[0]


def positive_choice(class_names: list[str], positive_class: str | None) -> tuple[int | None, str]:
    """``(index, reason)``: the positive class of a binary task and why it was taken (None for multi-class).

    The reason is a sentence for ``medgan data`` and the report; where the names cannot tell (neither or
    both look negative) it says so and how to choose (``--positive-class``).
    """
    if len(class_names) != 2:
        if positive_class is not None:
            raise ConfigError(f"--positive-class applies to binary tasks; this one has {len(class_names)} classes",
                              "drop --positive-class (multi-class tasks are scored one-vs-rest)")
        return None, f"multi-class task ({len(class_names)} classes): every class is scored one-vs-rest"
    if positive_class is not None:
        if positive_class not in class_names:
            raise ConfigError(f"positive class {positive_class!r} is not one of {class_names}",
                              f"use --positive-class {class_names[1]} or --positive-class {class_names[0]}")
        return class_names.index(positive_class), f"{positive_class} (chosen with --positive-class)"
    negative = [i for i, n in enumerate(class_names) if looks_negative(n)]
    if len(negative) == 1:
        pos = 1 - negative[0]
        return pos, (f"{class_names[pos]} (the other class, {class_names[negative[0]]}, is named like a negative "
                     f"class; choose with --positive-class)")
    why = "both look negative" if negative else "neither looks negative, e.g. 'normal' or 'noncovid'"
    return 1, (f"{class_names[1]}, the second class: the names cannot tell which class is positive ({why}); "
               f"choose with --positive-class {class_names[0]} or --positive-class {class_names[1]}")


def load_prepared(config: BenchmarkConfig) -> Any:
    """Load ``config.data`` and make model-ready tensors."""
    return prepare_tensors(load_data(config.data), image_size=config.image_size, window=config.window)


def arms_per_fold(config: BenchmarkConfig) -> int:
    """Classifier trainings per fold (the progress bar's unit): per real fraction the baseline, the controls
    and every model's synthetic arms (the selected arm reuses a trained one)."""
    arms = planned_arms(config.models, config.synthetic_ratios, config.tstr, config.tstr_ratio, config.controls,
                        config.synthetic_uses, config.fractions)
    return sum(1 for a in arms if a.kind != SELECTED)


def _check_or_write_config(out: Path, config: BenchmarkConfig, data_fp: str) -> None:
    path = out / "config.json"
    payload = {"config": config.to_dict(), "protocol_hash": config.protocol_hash(), "data_fingerprint": data_fp}
    if path.exists():
        try:
            old = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is not a readable benchmark config ({exc})",
                              "choose a new --out directory, or delete the damaged config.json to start over") from None
        if not isinstance(old, dict):
            old = {}
        if old.get("protocol_hash") != payload["protocol_hash"] or old.get("data_fingerprint") != data_fp:
            raise ConfigError(
                f"{out} holds a benchmark with different options or data",
                "rerun with the same options to resume, or choose a new --out directory",
            )
    atomic_save_json(path, payload)


def _earlier_invocations(out: Path) -> list[dict[str, Any]]:
    """The invocations recorded in an earlier ``results.json`` of this folder (a resumed run keeps the
    wall time of the ones that ran its folds; older results without the list give one entry)."""
    try:
        timing = json.loads((out / "results.json").read_text())["timing"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    if isinstance(timing.get("invocations"), list):
        return timing["invocations"]
    return [{"seconds": timing.get("total_seconds"), "folds_run": None, "workers": timing.get("workers"),
             "device": None, "command": None}]


def _load_fold(path: Path, protocol_hash: str, test_idx: np.ndarray) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        rec = json.loads(path.read_text())
    except ValueError:
        return None
    if rec.get("protocol_hash") != protocol_hash or rec["indices"]["test"] != test_idx.tolist():
        return None
    return rec


def run_benchmark(
    config: BenchmarkConfig,
    out_dir: str | Path,
    data: Any = None,
    gan_factory: Callable[[str], Callable] | None = None,
    progress: bool = True,
    log: Callable[[str], None] = print,
    command: str | None = None,
    workers: int = 1,
    cluster: str | None = None,
) -> dict[str, Any]:
    """Run (or resume) the whole benchmark and write ``results.json`` and ``report.md`` under ``out_dir``.

    Args:
        config: options (see :class:`BenchmarkConfig`).
        out_dir: output folder (created).
        data: an already prepared :class:`~medgan.data.types.PreparedData` (default: load ``config.data``).
        gan_factory: ``gan_factory(model)(train_data, seed, out_dir) -> sampler`` (default: train medgan GANs).
            With ``workers > 1`` it must be picklable (a module-level object).
        progress: show a tqdm bar over folds x arms.
        log: where progress lines go.
        command: the command line to quote in ``report.md``.
        workers: folds run at once, each in its own process. On CPU each worker gets
            ``torch.get_num_threads() // workers`` threads. 0 (auto): on CPU one 1-thread process per
            idle core, growing as cores free up (:func:`medgan.benchmark.executors.run_local`); on a GPU
            :func:`~medgan.benchmark.executors.default_workers`. Every fold has its own seed, so the
            folds' results do not depend on how many run at once (up to floating-point order).
        cluster: run the folds as Dask tasks: ``"auto"`` (a local cluster of ``workers`` or idle-core
            1-thread processes), a scheduler address or a scheduler file
            (:func:`medgan.benchmark.executors.run_on_cluster`; needs ``pip install 'medgan[cluster]'``).

    Returns the results dict (also in ``results.json``).
    """
    config.validate()
    if workers < 0:
        raise ConfigError(f"workers must be 0 (auto) or more, got {workers}", "use e.g. --workers 2")
    if cluster:
        check_cluster(cluster)
    t_start = time.perf_counter()
    out = Path(out_dir)
    device = resolve_device(config.device)
    data = load_prepared(config) if data is None else data
    positive, positive_reason = positive_choice(list(data.class_names), config.positive_class)
    patients, leak = audit(data.images, list(data.patients), config.dedup_threshold)
    labels = data.labels.numpy()
    splits = check_plan(labels, patients, config, list(data.class_names))  # every split, before any work
    _check_or_write_config(out, config, data.fingerprint())
    log(f"benchmark: {len(data)} images, {len(set(patients))} patients, classes {list(data.class_names)}; "
        + (f"positive class {positive_reason}; " if positive is not None else "")
        + f"{config.folds} folds x {config.repeats} repeats, models {list(config.models)}, device {device}; "
        f"writing to {out.resolve()}")
    per = arms_per_fold(config)
    bar = tqdm(total=len(splits) * per, desc="benchmark", unit="arm", disable=not progress, leave=True)
    done, pending = _resume(out, config, splits, lambda: bar.update(per), log)

    def finish(r: int, f: int, tr: np.ndarray, te: np.ndarray, rec: dict[str, Any]) -> None:
        done[(r, f)] = _save_fold(out, config, data, r, f, tr, te, rec, log)

    inputs = FoldInputs(data, patients, config, positive, gan_factory)
    n_workers = _run_pending(pending, inputs, device, workers, cluster, finish, bar, per, log)
    bar.close()
    records = [done[(r, f)] for r, f, _, _ in splits]
    results = results_of(records, splits, config, data, positive, leak, str(device))
    results["timing"].update(workers=n_workers, total_seconds=time.perf_counter() - t_start)  # with the bootstrap
    this_run = {"seconds": results["timing"]["total_seconds"], "folds_run": len(pending), "workers": n_workers,
                "device": str(device), "command": command, **({"cluster": cluster} if cluster else {})}
    results["timing"]["invocations"] = _earlier_invocations(out) + [this_run]
    atomic_save_json(out / "results.json", results)
    write_report(out, results, data, command=command)
    log(f"wrote {(out / 'results.json').resolve()} and {(out / 'report.md').resolve()} "
        f"({results['timing']['total_seconds']:.0f} s)")
    return results


def _run_pending(pending: list, inputs: FoldInputs, device: torch.device, workers: int, cluster: str | None,
                 finish: Callable, bar: Any, per: int, log: Callable[[str], None]) -> int:
    """Run the pending folds here, in local worker processes or on a Dask cluster; returns the most at once."""
    advance = lambda: bar.update(per)  # noqa: E731
    if cluster:
        return run_on_cluster(pending, inputs, cluster, workers, finish, advance, log)
    adaptive = workers == 0 and device.type == "cpu" and (os.cpu_count() or 1) > 1
    fixed = workers or default_workers(device, len(pending), torch.get_num_threads())
    if len(pending) > 1 and (adaptive or fixed > 1):
        return run_local(pending, inputs, device, 0 if adaptive else min(fixed, len(pending)), finish, advance, log)
    factory = inputs.gan_factory or default_gan_factory(inputs.config.gan_steps, inputs.config.gan_options,
                                                        str(device))
    for r, f, tr, te, seed, gan_dir, quality_dir in pending:
        bar.set_postfix_str(f"repeat {r} fold {f}")
        rec = run_fold(inputs.data, tr, te, inputs.patients, inputs.config, inputs.positive, seed, factory, gan_dir,
                       device, tick=lambda name: bar.update(1), quality_dir=quality_dir)
        finish(r, f, tr, te, rec)
    return 1


def _resume(out: Path, config: BenchmarkConfig, splits: list, advance: Callable[[], None],
            log: Callable[[str], None]) -> tuple[dict[tuple[int, int], dict[str, Any]], list[tuple]]:
    """The folds finished earlier (loaded) and the pending ones ``(r, f, tr, te, seed, gan_dir, quality_dir)``."""
    done: dict[tuple[int, int], dict[str, Any]] = {}
    pending = []
    for r, f, tr, te in splits:
        path = out / "folds" / f"r{r}_f{f}.json"
        rec = _load_fold(path, config.protocol_hash(), te)
        if rec is not None:
            advance()
            log(f"repeat {r} fold {f}: finished earlier, loaded {path}")
            done[(r, f)] = rec
        else:
            quality_dir = out / "quality" if (r, f) == (0, 0) and config.quality else None
            pending.append((r, f, tr, te, fold_seed(config, r, f), out / "gan" / f"r{r}_f{f}", quality_dir))
    return done, pending


def _save_fold(out: Path, config: BenchmarkConfig, data: Any, r: int, f: int, tr: np.ndarray, te: np.ndarray,
               rec: dict[str, Any], log: Callable[[str], None]) -> dict[str, Any]:
    """Save a finished fold atomically as ``folds/r<R>_f<F>.json`` (its preview images to ``samples.npz``)."""
    samples = rec.pop("samples")
    if not (out / "samples.npz").exists() or (r, f) == (0, 0):  # the report's grid: fold (0, 0) if run here
        arrays = {f"{m}_class{c}": im for m, per_class in samples.items() for c, im in enumerate(per_class)}
        with atomic_path(out / "samples.npz") as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    rec.update(repeat=r, fold=f, protocol_hash=config.protocol_hash(),
               test_near_copies_in_train=cross_split_duplicates(data.images, tr, te, config.dedup_threshold))
    atomic_save_json(out / "folds" / f"r{r}_f{f}.json", rec)
    t = rec["timing"]
    log(f"repeat {r} fold {f}: {t['fold_seconds']:.1f} s (GAN {t['gan_seconds']:.1f} s, "
        f"classifiers {t['classifier_seconds']:.1f} s)")
    return rec


def results_of(records: list[dict[str, Any]], splits: list, config: BenchmarkConfig, data: Any,
               positive: int | None, leak: dict[str, Any], device: str) -> dict[str, Any]:
    """The ``results.json`` dict of finished fold records: the confound check, then :func:`aggregate`."""
    labels = data.labels.numpy()
    confound = confound_check([m for m in data.meta] if data.meta else [{} for _ in range(len(data))], labels,
                              [(np.asarray(tr), np.asarray(te)) for _, _, tr, te in splits],
                              len(data.class_names), positive, config.seed)
    results = aggregate(records, config, data, positive, leak, confound, device=device)
    if positive is not None:
        results["data"]["positive_class_reason"] = positive_choice(list(data.class_names), config.positive_class)[1]
    return results


def rewrite_results(out_dir: str | Path, data: Any = None, log: Callable[[str], None] = print,
                    command: str | None = None) -> dict[str, Any]:
    """Recompute ``results.json`` and ``report.md`` (with figures) of a finished run from its saved folds.

    Nothing is retrained: the folds of ``out_dir/folds`` are aggregated again with the saved config; the
    versions and wall times of the invocations that ran them are kept, and the report quotes ``command``
    (default: the command it quoted, else the last invocation's). Raises :class:`DataError` when a fold
    is missing.
    """
    out = Path(out_dir)
    saved = read_results(out)
    config = BenchmarkConfig.from_dict(saved["config"])
    data = load_prepared(config) if data is None else data
    positive = resolve_positive(list(data.class_names), config.positive_class)
    patients, leak = audit(data.images, list(data.patients), config.dedup_threshold)
    splits = plan_splits(data.labels.numpy(), patients, config, list(data.class_names))
    done, pending = _resume(out, config, splits, lambda: None, lambda s: None)
    if pending:
        raise DataError(f"{out} lacks {len(pending)} finished fold(s) of its protocol",
                        "rerun its benchmark command first: it runs only the missing folds")
    results = results_of([done[(r, f)] for r, f, _, _ in splits], splits, config, data, positive, leak,
                         saved["versions"].get("device", "cpu"))
    results["config"], results["versions"] = saved["config"], saved["versions"]  # what the folds ran with
    kept = {k: saved["timing"][k] for k in ("workers", "total_seconds", "invocations") if k in saved["timing"]}
    timing = {**results["timing"], **kept}
    results["timing"] = {**{k: timing[k] for k in saved["timing"] if k in timing}, **timing}  # saved key order
    atomic_save_json(out / "results.json", results)
    write_report(out, results, data, command=command or _quoted_command(out, saved))
    log(f"rewrote {(out / 'results.json').resolve()} and {(out / 'report.md').resolve()} from {len(done)} folds")
    return results


def _quoted_command(out: Path, saved: dict[str, Any]) -> str | None:
    """The command an existing ``report.md`` quotes (else the last recorded invocation's)."""
    try:
        head = (out / "report.md").read_text().splitlines()[:4]
    except OSError:
        head = []
    for line in head:
        if line.startswith("Produced by `") and line.endswith("`."):
            return line[len("Produced by `"):-2]
    runs = saved["timing"].get("invocations") or [{}]
    return runs[-1].get("command")

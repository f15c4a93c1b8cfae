"""Where a benchmark's folds run: local worker processes that grow as cores free up, or a Dask cluster.

Every fold is one task with its own seed (:func:`medgan.benchmark.plan.fold_seed`), so its record does
not depend on where or beside what it ran. Whichever runner is used, ``finish(r, f, tr, te, record)`` is
called as each fold ends; the protocol saves that record atomically at once, so a stopped run loses only
the folds that were still running and a rerun (local or on a cluster) resumes from the saved ones.

- :func:`run_local`: spawned processes on this machine. With a fixed ``--workers N`` it keeps N busy;
  with ``--workers 0`` (auto) on CPU it starts a fold whenever a core is idle -- cores minus the other
  work on the machine (1-minute load average less this run's own running folds) -- so a run started
  beside another job uses the second core as soon as that job ends instead of keeping the worker count
  its start saw.
- :func:`run_on_cluster`: one Dask ``distributed`` task per fold on a local cluster (``"auto"``) or a
  running scheduler (``tcp://host:8786`` or a scheduler file, as on Slurm with dask-jobqueue or
  ``dask scheduler --scheduler-file``). A lost worker costs only its fold: the scheduler runs that task
  again elsewhere (Dask's ``distributed.scheduler.allowed-failures`` times at most).
"""
from __future__ import annotations

import copy
import math
import multiprocessing as mp
import os
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from medgan.benchmark.config import BenchmarkConfig
from medgan.benchmark.fold import run_fold
from medgan.benchmark.synthetic import default_gan_factory
from medgan.errors import ConfigError
from medgan.utils.device import resolve_device

#: How often (seconds) an adaptive local run looks again for an idle core while folds run.
RECHECK_SECONDS = 20.0

#: Dask's nanny starts its workers with ``MALLOC_TRIM_THRESHOLD_=65536``. Any fixed trim threshold also
#: switches off glibc's dynamic mmap threshold, so every tensor above 128 KiB is mapped and unmapped anew:
#: the quick benchmark's folds ran 26 % slower on a local Dask cluster (sys time 37 s of 112 s wall;
#: docs/benchmark.md). Local clusters spawn their workers without it; on joined clusters a worker that has
#: it without ``MALLOC_MMAP_THRESHOLD_`` is reported.
SLOW_MALLOC_VARIABLE = "MALLOC_TRIM_THRESHOLD_"


@dataclass
class FoldInputs:
    """What every fold of one benchmark shares (sent once per worker process)."""

    data: Any
    patients: list[str]
    config: BenchmarkConfig
    positive: int | None
    gan_factory: Any  # None: medgan's GANs (:func:`default_gan_factory`); else it must be picklable


def default_workers(device: torch.device, n_folds: int, threads: int) -> int:
    """Fold worker processes for ``workers=0`` (auto) where the count is fixed (GPU; see :func:`run_local`).

    On CPU one single-threaded worker per thread: small convolutions scale poorly across threads, and
    two 1-thread GAN trainings made 20 % more steps per second here than one 2-thread training. On a GPU
    several folds share the card (these networks leave it mostly idle): up to half the CPU cores, at most 8.
    """
    if device.type == "cuda":
        return max(1, min(n_folds, 8, (os.cpu_count() or 2) // 2))
    return max(1, min(n_folds, threads))


def idle_core_count(own_load: float = 0.0) -> int:
    """Cores not busy with other work: cores minus (1-minute load average - ``own_load``), at least 1."""
    cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - own_load)
    except (AttributeError, OSError):
        return cores
    return max(1, min(cores, int(round(cores - others))))


class OwnLoad:
    """This run's share of the 1-minute load average: each fold process adds 1 while it runs, seen
    through the kernel's exponential average (time constant 60 s), so a fold just started (not yet in
    the average) or just ended (still in it) is not mistaken for other work."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.spans: list[list[float | None]] = []  # [start, end or None]

    def start(self) -> int:
        self.spans.append([self.clock(), None])
        return len(self.spans) - 1

    def end(self, span: int) -> None:
        self.spans[span][1] = self.clock()

    def __float__(self) -> float:
        now = self.clock()
        total = 0.0
        for start, end in self.spans:
            stop = now if end is None else end
            total += (1 - math.exp(-(stop - start) / 60)) * math.exp(-(now - stop) / 60)
        return total


def _fold_device(config: BenchmarkConfig) -> torch.device:
    """The device a fold task uses where it runs: ``auto`` on a multi-GPU worker -> GPU (worker number % GPUs)."""
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if str(config.device) == "auto" and gpus > 1:
        return resolve_device("auto", local_rank=_worker_number() % gpus)
    return resolve_device(config.device)


def _worker_number() -> int:
    try:
        from distributed import get_worker

        name = get_worker().name
    except (ImportError, ValueError):
        return 0
    return name if isinstance(name, int) else sum(map(ord, str(name)))


# ---- local processes ---------------------------------------------------------------------------------
_WORKER: dict[str, Any] = {}


def _init_worker(threads: int, inputs: FoldInputs, device: torch.device) -> None:
    """Fold worker start-up: thread count and the shared inputs, sent once per process."""
    torch.set_num_threads(threads)
    factory = inputs.gan_factory or default_gan_factory(inputs.config.gan_steps, inputs.config.gan_options,
                                                        str(device))
    _WORKER.update(inputs=inputs, gan_factory=factory, device=device)


def _run_fold_in_worker(tr: Any, te: Any, seed: int, gan_dir: Path, quality_dir: Path | None) -> dict[str, Any]:
    w = _WORKER
    i: FoldInputs = w["inputs"]
    return run_fold(i.data, tr, te, i.patients, i.config, i.positive, seed, w["gan_factory"], gan_dir, w["device"],
                    quality_dir=quality_dir)


def run_local(pending: list, inputs: FoldInputs, device: torch.device, workers: int, finish: Callable,
              advance: Callable[[], None], log: Callable[[str], None]) -> int:
    """Run the pending folds ``(r, f, tr, te, seed, gan_dir, quality_dir)`` in spawned processes.

    ``workers > 0``: that many at once. ``workers == 0`` on CPU: one 1-thread process per idle core,
    looked up again whenever a fold ends and every :data:`RECHECK_SECONDS`. Returns the most folds that
    ran at once. The first fold error stops new folds; the running ones finish and are saved, then it is
    raised.
    """
    adaptive = workers == 0 and device.type == "cpu"
    ceiling = min(len(pending), os.cpu_count() or 1) if adaptive else workers
    threads = 1 if adaptive else (max(1, torch.get_num_threads() // workers) if device.type == "cpu" else 1)
    log(f"running {len(pending)} folds in " + (f"up to {ceiling} worker processes as cores are idle"
                                               if adaptive else f"{workers} worker processes")
        + f" ({threads} thread(s) each)")
    # a copy: sending a tensor moves its storage to shared memory, which would leave numpy views of the
    # caller's data (e.g. its labels) pointing at freed memory
    shipped = copy.deepcopy(inputs)
    with ProcessPoolExecutor(ceiling, mp_context=mp.get_context("spawn"), initializer=_init_worker,
                             initargs=(threads, shipped, device)) as pool:
        return _drive(pool, list(pending), ceiling, adaptive, finish, advance, log)


def _drive(pool: ProcessPoolExecutor, queue: list, ceiling: int, adaptive: bool, finish: Callable,
           advance: Callable[[], None], log: Callable[[str], None]) -> int:
    """Submit folds while there is room, collect them as they end; returns the most run at once."""
    running: dict[Future, tuple] = {}
    own = OwnLoad()
    error: BaseException | None = None
    most = 0
    while queue or running:
        room = min(ceiling, idle_core_count(float(own))) if adaptive else ceiling
        while queue and error is None and len(running) < room:
            r, f, tr, te, seed, gan_dir, quality_dir = queue.pop(0)
            fut = pool.submit(_run_fold_in_worker, tr, te, seed, gan_dir, quality_dir)
            running[fut] = (r, f, tr, te, own.start())
        if most and len(running) > most:
            log(f"{len(running)} folds now run at once (a core became idle)")
        most = max(most, len(running))
        if error is not None:
            queue.clear()
        ended, _ = wait(running, timeout=RECHECK_SECONDS if adaptive else None, return_when=FIRST_COMPLETED)
        for fut in ended:
            *key, span = running.pop(fut)
            own.end(span)
            if fut.exception() is not None:
                error = error or fut.exception()  # stop starting folds; the running ones finish and are saved
                continue
            finish(*key, fut.result())
            advance()
    if error is not None:
        raise error
    return most


# ---- a Dask cluster ----------------------------------------------------------------------------------
def _run_fold_task(inputs: FoldInputs, tr: Any, te: Any, seed: int, gan_dir: str,
                   quality_dir: str | None) -> dict[str, Any]:
    """One fold on a Dask worker: one torch thread per task slot on CPU, the worker's GPU on a GPU node."""
    device = _fold_device(inputs.config)
    if device.type == "cpu":
        torch.set_num_threads(1)
    factory = inputs.gan_factory or default_gan_factory(inputs.config.gan_steps, inputs.config.gan_options,
                                                        str(device))
    return run_fold(inputs.data, tr, te, inputs.patients, inputs.config, inputs.positive, seed, factory,
                    Path(gan_dir), device, quality_dir=Path(quality_dir) if quality_dir else None)


def check_cluster(address: str) -> None:
    """Fail at once (before any data is loaded) when ``--cluster`` cannot work: no Dask, no scheduler file."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ConfigError("--cluster needs Dask distributed, which is not installed",
                          "pip install 'medgan[cluster]' (or run without --cluster)") from None
    if address.endswith(".json") and not Path(address).is_file():
        raise ConfigError(f"no Dask scheduler file {address}",
                          "start the scheduler first (dask scheduler --scheduler-file FILE, or dask-jobqueue), "
                          "or use --cluster auto")


def _client(address: str, workers: int) -> Any:
    """A ``distributed.Client``: a new local cluster of 1-thread worker processes, or a running scheduler."""
    import dask
    from distributed import Client, LocalCluster

    check_cluster(address)
    if address == "auto":
        n = workers or idle_core_count(0)
        with dask.config.set({"distributed.nanny.pre-spawn-environ": _worker_environ()}):
            return Client(LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None))
    try:
        if address.endswith(".json"):
            return Client(scheduler_file=address, timeout="30s")
        return Client(address, timeout="30s")
    except (OSError, TimeoutError, ValueError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {address} ({exc})",
                          "start it first (dask scheduler / dask-jobqueue), or use --cluster auto") from None


def _worker_environ() -> dict[str, Any]:
    """Dask's pre-spawn environment for worker processes, less :data:`SLOW_MALLOC_VARIABLE`."""
    import dask

    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    env.pop(SLOW_MALLOC_VARIABLE, None)
    return env


def _malloc_settings() -> tuple[str | None, str | None]:
    """This process's glibc trim and mmap thresholds from the environment (run on each worker)."""
    return os.environ.get(SLOW_MALLOC_VARIABLE), os.environ.get("MALLOC_MMAP_THRESHOLD_")


def slow_malloc_note(client: Any) -> str:
    """A note naming the workers whose fixed trim threshold makes torch slow ('' when none has one)."""
    slow = [w for w, (trim, mmap) in client.run(_malloc_settings).items() if trim and not mmap]
    if not slow:
        return ""
    return (f"note: {len(slow)} Dask worker(s) run with {SLOW_MALLOC_VARIABLE} set (Dask's default), which made "
            "torch folds ~26 % slower here; add MALLOC_MMAP_THRESHOLD_: 33554432 to "
            "distributed.nanny.pre-spawn-environ in the workers' Dask config (docs/benchmark.md)")


def run_on_cluster(pending: list, inputs: FoldInputs, address: str, workers: int, finish: Callable,
                   advance: Callable[[], None], log: Callable[[str], None]) -> int:
    """Run the pending folds as Dask tasks; ``finish`` is called as each ends. Returns the cluster's workers."""
    from distributed import as_completed

    client = _client(address, workers)
    try:
        n_workers = len(client.scheduler_info()["workers"])
        log(f"running {len(pending)} folds on the Dask cluster {client.scheduler.address} ({n_workers} workers)")
        if note := slow_malloc_note(client):
            log(note)
        shared = client.scatter(inputs, broadcast=True, hash=False)
        futures = {}
        for r, f, tr, te, seed, gan_dir, quality_dir in pending:
            fut = client.submit(_run_fold_task, shared, tr, te, seed, str(Path(gan_dir).resolve()),
                                str(Path(quality_dir).resolve()) if quality_dir else None,
                                key=f"medgan-fold-r{r}-f{f}-{inputs.config.protocol_hash()[:12]}", pure=False)
            futures[fut] = (r, f, tr, te)
        for fut in as_completed(futures):
            if fut.status == "error":
                for other in futures:
                    other.cancel()
                fut.result()  # raises the fold's error as it was raised on the worker
            finish(*futures[fut], fut.result())
            advance()
        return n_workers
    finally:
        cluster = client.cluster
        client.close()
        if cluster is not None and address == "auto":
            cluster.close()

"""Where folds run: the adaptive local pool and the Dask cluster give the serial run's fold records."""
import json

import pytest
import torch

import medgan.benchmark.executors as executors
from medgan.benchmark.executors import OwnLoad
from medgan.benchmark.plan import fold_seed
from medgan.benchmark.protocol import run_benchmark
from medgan.errors import ConfigError

from benchmark_fakes import DyingOnceFactory, PicklableFakeFactory, small_config, tiny_data

FOLDS = ("r0_f0.json", "r0_f1.json")


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    torch.set_num_threads(1)  # what every parallel fold uses
    out = tmp_path_factory.mktemp("serial")
    results = run_benchmark(small_config(), out, data=tiny_data(), gan_factory=PicklableFakeFactory(),
                            progress=False, log=lambda s: None)
    return out, results


def assert_same_folds(a, b):
    for name in FOLDS:
        one, two = (json.loads((d / "folds" / name).read_text()) for d in (a, b))
        assert one["indices"] == two["indices"]
        for arm in one["arms"]:
            assert one["arms"][arm]["test_probs"] == two["arms"][arm]["test_probs"], (name, arm)


def test_own_load_follows_the_kernel_average():
    now = [0.0]
    own = OwnLoad(clock=lambda: now[0])
    span = own.start()
    assert float(own) == 0.0  # a fold just started is not in the load average yet
    now[0] = 60.0
    assert float(own) == pytest.approx(1 - 1 / 2.718281828, abs=1e-6)
    own.end(span)
    now[0] = 600.0
    assert float(own) < 1e-3  # long ended: gone from the average


@pytest.mark.slow
def test_local_pool_grows_when_a_core_frees_up(serial, tmp_path, monkeypatch):
    idle = iter([1])  # busy machine at the start, then a second core is free
    monkeypatch.setattr(executors, "idle_core_count", lambda own=0.0: next(idle, 2))
    monkeypatch.setattr(executors, "RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(executors.os, "cpu_count", lambda: 2)
    lines = []
    res = run_benchmark(small_config(), tmp_path, data=tiny_data(), gan_factory=PicklableFakeFactory(),
                        progress=False, log=lines.append, workers=0)
    assert any("up to 2 worker processes as cores are idle" in s for s in lines)
    assert "2 folds now run at once (a core became idle)" in lines
    assert res["timing"]["workers"] == 2
    assert_same_folds(serial[0], tmp_path)


@pytest.mark.slow
def test_local_dask_cluster_gives_the_local_results_and_survives_a_lost_worker(serial, tmp_path):
    out = tmp_path / "run"
    dying = DyingOnceFactory(tmp_path, dying_seed=fold_seed(small_config(), 0, 1))
    lines = []
    res = run_benchmark(small_config(), out, data=tiny_data(), gan_factory=dying, progress=False,
                        log=lines.append, workers=2, cluster="auto")
    assert (tmp_path / f"died_cgan_{dying.dying_seed}").exists()  # the worker of fold 1 was lost once
    assert any("on the Dask cluster" in s and "(2 workers)" in s for s in lines)
    assert not any("MALLOC" in s for s in lines)  # the local cluster's workers keep glibc's dynamic thresholds
    assert_same_folds(serial[0], out)
    assert [a["auc"] for a in res["arms"]] == [a["auc"] for a in serial[1]["arms"]]
    assert res["timing"]["invocations"][-1]["cluster"] == "auto"


class _ClientOfWorkers:
    """Stands in for a distributed.Client: ``run`` answers as workers with these environments would."""

    def __init__(self, envs):
        self.envs = envs

    def run(self, fn):
        return {w: (env.get("MALLOC_TRIM_THRESHOLD_"), env.get("MALLOC_MMAP_THRESHOLD_")) for w, env in self.envs.items()}


def test_workers_with_dasks_fixed_trim_threshold_are_reported():
    assert executors.slow_malloc_note(_ClientOfWorkers({"a": {}, "b": {}})) == ""
    fixed = {"MALLOC_TRIM_THRESHOLD_": "65536"}
    note = executors.slow_malloc_note(_ClientOfWorkers({"a": fixed, "b": {}}))
    assert note.startswith("note: 1 Dask worker(s)") and "MALLOC_MMAP_THRESHOLD_" in note
    both = {**fixed, "MALLOC_MMAP_THRESHOLD_": "33554432"}
    assert executors.slow_malloc_note(_ClientOfWorkers({"a": both})) == ""


def test_local_cluster_workers_are_spawned_without_the_fixed_trim_threshold():
    pytest.importorskip("distributed")
    env = executors._worker_environ()
    assert "MALLOC_TRIM_THRESHOLD_" not in env and env.get("OMP_NUM_THREADS") == 1


def test_unreachable_scheduler_is_one_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="scheduler") as info:
        run_benchmark(small_config(), tmp_path, data=tiny_data(), gan_factory=PicklableFakeFactory(),
                      progress=False, log=lambda s: None, cluster=str(tmp_path / "missing-scheduler.json"))
    assert "dask scheduler" in info.value.hint

"""Bad inputs to training (issue 18): wrong-shape resume, wrong-typed options, a run folder in use."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch

from medgan.errors import CheckpointError, ConfigError
from medgan.training import TrainConfig, train
from medgan.utils.lock import LOCK_NAME, output_lock


def test_resume_with_a_wrong_shape_g_tensor_is_checkpoint_error(tmp_path, tiny_config, tiny_data):
    cfg = tiny_config(steps=2)
    out = train(cfg, tiny_data, tmp_path / "run", progress=False)
    ckpt = out / "checkpoints" / "last.pt"
    state = torch.load(ckpt, weights_only=True)
    key = next(k for k, v in state["G"].items() if v.ndim == 4)
    state["G"][key] = torch.zeros(*[s + 1 for s in state["G"][key].shape])
    torch.save(state, ckpt)
    with pytest.raises(CheckpointError, match="do not fit") as exc:
        train(tiny_config(steps=3), tiny_data, out, resume=True, progress=False)
    assert str(ckpt) in exc.value.message and "--out" in exc.value.hint


@pytest.mark.parametrize("options, words", [
    ({"lr_g": "fast"}, "lr_g must be a finite number"),
    ({"steps": "many"}, "steps must be an integer"),
    ({"betas": 0.5}, "betas must be a list of 2 numbers"),
    ({"balanced": "yes"}, "balanced must be true or false"),
])
def test_wrong_type_names_option_and_type(options, words):
    with pytest.raises(ConfigError, match=words):
        TrainConfig.from_dict(options)


@pytest.mark.parametrize("options, words", [
    ({"steps": 0}, "steps=0: allowed >= 1"),
    ({"lr_d": -1.0}, "lr_d=-1.0: allowed > 0"),
    ({"num_threads": -3}, "num_threads=-3"),
    ({"seed": -1}, "seed=-1"),
    ({"betas": [0.5, 1.5]}, "betas=(0.5, 1.5)"),
])
def test_invalid_option_names_option_and_range_not_the_whole_config(options, words):
    with pytest.raises(ConfigError) as exc:
        TrainConfig.from_dict(options)
    assert words in exc.value.message and "{" not in exc.value.message  # not the whole config dict


def test_run_folder_in_use_is_refused(tmp_path, tiny_config, tiny_data):
    out = tmp_path / "run"
    with output_lock(out):
        # a second open file description of the same lock file: what another process would get
        with pytest.raises(ConfigError, match=r"in use by another medgan process \(pid \d+\)"):
            with output_lock(out):
                pass
    train(tiny_config(steps=1), tiny_data, out, progress=False)  # released: the folder is usable again
    assert (out / LOCK_NAME).is_file()


HOLDER = textwrap.dedent("""
    import fcntl, os, sys, time
    fh = open(sys.argv[1], "a+")
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
    fh.seek(0); fh.truncate(); fh.write(str(os.getpid())); fh.flush()
    print("locked", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def held_run(tmp_path):
    """A run folder whose lock another process holds; yields (folder, holder pid)."""
    out = tmp_path / "run"
    out.mkdir()
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(out / LOCK_NAME)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        yield out, proc.pid
    finally:
        proc.kill()
        proc.wait(timeout=30)


def test_second_train_into_a_folder_in_use_is_refused(held_run, tiny_config, tiny_data):
    out, pid = held_run
    with pytest.raises(ConfigError, match=f"in use by another medgan process \\(pid {pid}\\)"):
        train(tiny_config(steps=1), tiny_data, out, progress=False)
    assert not (out / "log.csv").exists() and not (out / "config.json").exists()


def test_cli_train_and_benchmark_into_a_folder_in_use_exit_2(held_run, capsys):
    from medgan.cli import main

    out, pid = held_run
    assert main(["train", "--data", "phantom:n_per_class=2,size=32", "--out", str(out), "--steps", "1",
                 "--image-size", "16", "--batch-size", "2", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"pid {pid}" in err and "fix:" in err and "Traceback" not in err
    assert main(["benchmark", "--data", "phantom:n_per_class=2,size=32", "--out", str(out), "--quick",
                 "--no-progress", "--threads", "1"]) == 2
    assert f"pid {pid}" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [LOCK_NAME]

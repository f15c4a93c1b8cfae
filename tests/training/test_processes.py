"""Subprocess tests: SIGKILL mid-run then --resume; 2-process training under torchrun (slow)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent

SCRIPT = textwrap.dedent("""
    import sys, json, torch
    sys.path.insert(0, {here!r})
    from conftest import TINY, make_data
    from medgan.training import TrainConfig, train
    cfg = TrainConfig(**{{**TINY, "steps": {steps}, "checkpoint_every": 10, "log_every": 10}})
    out = train(cfg, make_data(), {out!r}, resume={resume}, progress=False)
    import torch.distributed as dist
    if dist.is_available() and dist.is_initialized():
        from medgan.training.distributed import init_distributed
        from medgan.training.trainer import Trainer
        info = init_distributed(torch.device("cpu"))
        data = make_data()
        t = Trainer(cfg, data.images, data.labels, 2, "cpu", info)
        batches = [t.train_step() for _ in range(3)]
        digest = float(sum(p.detach().double().sum() for p in t.G.parameters()))
        first_batch = float(t.sample_batch()[0].sum())
        with open({out!r} + f"/rank{{info.rank}}.json", "w") as fh:
            json.dump({{"params": digest, "batch": first_batch}}, fh)
    from medgan.training.distributed import exit_process
    exit_process(0)  # as the CLI ends a torchrun worker: no abort in C++ teardown after a good run
""")


def _script(tmp_path, out, steps, resume=False):
    path = tmp_path / f"job_{steps}_{resume}.py"
    path.write_text(SCRIPT.format(here=str(HERE), steps=steps, out=str(out), resume=resume))
    return path


def _env():
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(HERE.parents[1])}


@pytest.mark.slow
def test_sigkill_then_resume_reaches_requested_steps(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(_script(tmp_path, out, 3000))], env=_env())
    ckpt = out / "checkpoints" / "last.pt"
    deadline = time.time() + 60
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    time.sleep(0.3)
    assert proc.poll() is None, "run finished before it could be killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    import torch
    killed_at = torch.load(ckpt, weights_only=True)["step"]
    assert 0 < killed_at < 3000
    subprocess.run([sys.executable, str(_script(tmp_path, out, killed_at + 20, resume=True))], env=_env(), check=True,
                   timeout=120)
    meta = json.loads((out / "generator.json").read_text())
    assert meta["step"] == killed_at + 20
    steps = [int(line.split(",")[0]) for line in (out / "log.csv").read_text().splitlines()[1:]]
    assert steps == sorted(set(steps)) and steps[-1] == killed_at + 20


@pytest.mark.slow
def test_two_process_training_with_torchrun(tmp_path):
    out = tmp_path / "ddp"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           str(_script(tmp_path, out, 6))]
    res = subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr[-3000:]
    r0, r1 = (json.loads((out / f"rank{r}.json").read_text()) for r in (0, 1))
    assert r0["batch"] != r1["batch"]  # each process draws its own batches ...
    assert r0["params"] == r1["params"]  # ... and averaged gradients keep the weights identical
    meta = json.loads((out / "generator.json").read_text())
    assert meta["step"] == 6
    assert not list(out.glob(".*.tmp"))

"""Bad command-line input (issue 18): exit status 2, one ``error:``/``fix:`` message, no traceback, before any work."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from medgan.cli import main

DATA = "phantom:n_per_class=2,size=32"
COMMANDS = {
    "train": ["train", "--data", DATA, "--steps", "1", "--image-size", "16", "--batch-size", "2", "--quiet"],
    "evaluate": ["evaluate", "--checkpoint", "no-such-run", "--data", DATA, "--fast"],
    "benchmark": ["benchmark", "--data", DATA, "--quick", "--no-progress", "--threads", "1"],
}


def _fails_clearly(capsys, argv: list[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "\n  fix: " in err and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    return err


@pytest.fixture
def blocker(tmp_path) -> Path:
    path = tmp_path / "afile"
    path.write_text("keep me")
    return path


@pytest.mark.parametrize("command", sorted(COMMANDS))
@pytest.mark.parametrize("case", ["existing_file", "below_file"])
def test_out_that_is_or_lies_below_a_file(tmp_path, capsys, blocker, command, case):
    out = blocker if case == "existing_file" else blocker / "run"
    words = ("is an existing file",) if case == "existing_file" else ("lies below", "which is a file")
    _fails_clearly(capsys, COMMANDS[command] + ["--out", str(out)], "--out", str(out), *words)
    assert blocker.read_text() == "keep me" and sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_read_only_out(tmp_path, capsys, command):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        if os.access(ro, os.W_OK):
            pytest.skip("running as root: a chmod 555 folder is still writable (see the os.access test in "
                        "tests/synthesis/test_bad_inputs_synthesis.py)")
        _fails_clearly(capsys, COMMANDS[command] + ["--out", str(ro / "run")], "not writable")
    finally:
        ro.chmod(0o755)


@pytest.mark.parametrize("flags, words", [
    (["--ratios", "nan,inf"], ("--ratios must be finite numbers >= 0",)),
    (["--ratios", "0,-1"], ("--ratios must be finite numbers >= 0",)),
    (["--target-sensitivity", "1.5"], ("--target-sensitivity must be in (0, 1)", "1.5")),
    (["--target-sensitivity", "0"], ("--target-sensitivity must be in (0, 1)",)),
    (["--threads", "-3"], ("--threads must be >= 0", "-3")),
    (["--workers", "-1"], ("--workers must be >= 0",)),
    (["--gan-steps", "0"], ("--gan-steps must be >= 1",)),
    (["--image-size", "48"], ("--image-size must be 16, 32, 64, 128 or 256",)),
    (["--seed", "-1"], ("--seed must be",)),
    (["--cluster", "nowhere.json"], ("no Dask scheduler file nowhere.json", "--cluster auto")),
])
def test_benchmark_numeric_options_checked_before_any_work(tmp_path, capsys, flags, words):
    out = tmp_path / "bench"
    _fails_clearly(capsys, COMMANDS["benchmark"] + ["--out", str(out)] + flags, *words)
    assert not out.exists()


@pytest.mark.parametrize("doc, words", [
    ({"gan_options": {"lr_g": "fast"}}, ("gan_options", "lr_g must be a finite number", "'fast'")),
    ({"folds": "5"}, ("folds must be an integer", "'5'")),
    ({"ratios": 1}, ("--ratios must be finite numbers",)),
    ({"classifier": {"lr": "fast"}}, ("classifier option lr must be a finite number",)),
    ({"classifier": [1, 2]}, ("classifier must be a JSON object",)),
])
def test_benchmark_config_values_of_the_wrong_type(tmp_path, capsys, doc, words):
    cfg = tmp_path / "bench.json"
    cfg.write_text(json.dumps(doc))
    _fails_clearly(capsys, COMMANDS["benchmark"] + ["--out", str(tmp_path / "b"), "--config", str(cfg)], *words)


@pytest.mark.parametrize("doc, words", [
    ({"lr_g": "fast"}, ("lr_g must be a finite number", "'fast'")),
    ({"ema_decay": 2.0}, ("ema_decay=2.0", "allowed")),
    ([1, 2], ("not a JSON object",)),
])
def test_train_config_values_of_the_wrong_type_or_range(tmp_path, capsys, doc, words):
    cfg = tmp_path / "train.json"
    cfg.write_text(json.dumps(doc))
    err = _fails_clearly(capsys, COMMANDS["train"] + ["--out", str(tmp_path / "run"), "--config", str(cfg)], *words)
    assert "'model':" not in err  # the option, not the whole config dict


@pytest.mark.parametrize("flags, words", [
    (["--threads", "-3"], ("--threads must be >= 0",)),
    (["--steps", "0"], ("steps=0", ">= 1")),
    (["--seed", "-1"], ("seed=-1",)),
])
def test_train_numeric_flags(tmp_path, capsys, flags, words):
    _fails_clearly(capsys, COMMANDS["train"] + ["--out", str(tmp_path / "run")] + flags, *words)
    assert not (tmp_path / "run").exists()


def test_train_resume_with_a_corrupt_config_json(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{not json")
    _fails_clearly(capsys, COMMANDS["train"] + ["--out", str(run), "--resume"], "config.json")


def test_evaluate_seed_out_of_range(tmp_path, capsys):
    _fails_clearly(capsys, COMMANDS["evaluate"] + ["--out", str(tmp_path / "q"), "--seed", "-1"], "--seed")


def test_benchmark_out_with_a_damaged_config_json(tmp_path, capsys):
    out = tmp_path / "bench"
    out.mkdir()
    (out / "config.json").write_text("{damaged")
    data = ["--data", "phantom:n_per_class=12,size=32"]  # a feasible plan: the damaged file is the first problem
    _fails_clearly(capsys, COMMANDS["benchmark"] + data + ["--out", str(out)], "config.json")

"""pipelines/bench_speed.py: interleaved rounds, medians and spreads, impossible figures flagged."""
from __future__ import annotations

import json

import pytest

TINY = ["--batch-size", "4", "--ngf", "4", "--ndf", "4", "--rounds", "2", "--steps", "2", "--sample-batches", "1",
        "--warmup", "0", "--matmul-size", "64", "--threads", "1"]


@pytest.fixture
def bench(load_pipeline, monkeypatch):
    """The script as a module; ``bench.calls`` records every row execution (training steps) and matmul in order."""
    module = load_pipeline("bench_speed")
    module.calls = []
    build_rows, matmul = module.build_rows, module.matmul_gflops

    def recording_rows(args, bf16):
        rows = build_rows(args, False)  # the bf16 row only where the CPU has it; the test keeps to float32
        for row in rows:
            def step(inner=row.step, name=row.name):
                module.calls.append(name)
                return inner()
            row.step = step
        return rows

    def recording_matmul(n, repeats, dtype=None):
        module.calls.append("matmul")
        return matmul(n, repeats)

    monkeypatch.setattr(module, "build_rows", recording_rows)
    monkeypatch.setattr(module, "matmul_gflops", recording_matmul)
    monkeypatch.setattr(module, "bf16_is_fast", lambda device: False)
    return module


def _executions(calls: list[str]) -> list[str]:
    """Consecutive calls of the same row collapsed into one execution."""
    return [c for i, c in enumerate(calls) if i == 0 or calls[i - 1] != c]


def test_rows_run_in_rotated_rounds_and_figures_are_written(bench, tmp_path, capsys):
    out = tmp_path / "speed.json"
    assert bench.main(TINY + ["--json", str(out)]) == 0
    printed = capsys.readouterr().out
    res = json.loads(out.read_text())
    units = ["matmul float32", "reference", "medgan dcgan", "medgan cgan"]
    assert res["order"] == [units, units[1:] + units[:1]]
    # what actually ran, after the flop count (one step per row, in build order): round 0 then round 1
    names = {"matmul float32": "matmul"}
    expected = [names.get(u, u) for rnd in res["order"] for u in rnd]
    assert _executions(bench.calls)[-len(expected):] == expected
    assert _executions(bench.calls)[-len(expected):][:4] != _executions(bench.calls)[-4:]  # the order changed
    for name in ("reference", "medgan dcgan", "medgan cgan"):
        train = res["rows"][name]["train"]
        assert len(train["images_per_s"]["per_round"]) == 2
        assert train["images_per_s"]["min"] <= train["images_per_s"]["median"] <= train["images_per_s"]["max"]
        assert 0 < train["share_of_matmul"] < 1 and not train["measurement_error"]
    ratio = res["train_ratio"]
    assert ratio["median_of_round_ratios"] == pytest.approx(sum(ratio["per_round"]) / 2)
    assert f"train ratio: {ratio['median_of_round_ratios']:.2f}" in printed
    assert res["errors"] == [] and "measurement error:" not in printed
    table = [line for line in printed.splitlines() if line.startswith(("reference", "medgan"))]
    assert len(table) == 3 and not any("MEASUREMENT ERROR" in line for line in table)


def test_a_figure_above_the_matmul_rate_is_a_measurement_error(bench, monkeypatch, capsys):
    monkeypatch.setattr(bench, "matmul_gflops", lambda n, repeats, dtype=None: 1e-6)  # an impossibly slow matmul
    assert bench.main(TINY) == 0
    printed = capsys.readouterr().out
    assert "train ratio: measurement error" in printed
    table = [line for line in printed.splitlines() if line.startswith(("reference", "medgan dcgan", "medgan cgan"))]
    assert len(table) == 3 and all(line.count("MEASUREMENT ERROR") == 2 for line in table)
    assert "measurement error: reference train" in printed


def test_on_a_bf16_cpu_the_train_ratio_is_the_default_bf16_dcgan_and_float32_follows(load_pipeline):
    bench = load_pipeline("bench_speed")
    rows = [bench.Row(n, step=lambda: None, sample=lambda k: None, dtype=d, train_flop=1e6, sample_flop=1e6)
            for n, d in (("reference", "float32"), ("medgan dcgan", "float32"), ("dcgan bf16", "bfloat16"))]
    raw = {"order": [], "matmul": {"float32": [100.0], "bfloat16": [500.0]},
           "train": {"reference": [10.0], "medgan dcgan": [9.0], "dcgan bf16": [20.0]},
           "sample": {n: [1.0] for n in ("reference", "medgan dcgan", "dcgan bf16")}}
    s = bench.summarize(rows, raw)
    assert s["train_ratio"]["row"] == "dcgan bf16" and s["train_ratio"]["median_of_round_ratios"] == 2.0
    assert s["train_ratio_float32"]["median_of_round_ratios"] == 0.9
    args = bench.argparse.Namespace(batch_size=4, ngf=4, ndf=4, rounds=1, steps=1, sample_batches=1, matmul_size=64)
    printed = "\n".join(bench.report(s, args))
    assert "train ratio: 2.00" in printed and "train ratio float32: 0.90" in printed
    assert "dcgan bf16 (medgan's default training configuration)" in printed


def test_summarize_flags_only_rounds_above_the_fastest_matmul(load_pipeline):
    bench = load_pipeline("bench_speed")
    row = bench.Row("reference", step=lambda: None, sample=lambda n: None, train_flop=1e9, sample_flop=1e8)
    raw = {"order": [["reference"]] * 3, "matmul": {"float32": [90.0, 100.0, 80.0]},
           "train": {"reference": [50.0, 100.0, 60.0]}, "sample": {"reference": [100.0, 1001.0, 900.0]}}
    s = bench.summarize([row], raw)
    train, sample = s["rows"]["reference"]["train"], s["rows"]["reference"]["sample"]
    assert not train["measurement_error"]  # 100 GFLOP/s equals the fastest matmul: possible
    assert train["images_per_s"] == {"median": 60.0, "min": 50.0, "max": 100.0, "per_round": [50.0, 100.0, 60.0]}
    assert train["share_of_matmul"] == pytest.approx(60 / 90)
    assert sample["measurement_error"] and sample["rounds_above_ceiling"] == [1]
    assert len(s["errors"]) == 1 and "round 1" in s["errors"][0]

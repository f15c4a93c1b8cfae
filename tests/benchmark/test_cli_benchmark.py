"""`medgan benchmark` end to end on a tiny phantom with a real (very short) GAN."""
import json

import pytest

from medgan.cli import main


@pytest.mark.slow
def test_cli_quick_tiny_phantom(tmp_path, capsys):
    out = tmp_path / "bench"
    argv = ["benchmark", "--data", "phantom:n_per_class=12,seed=3", "--quick", "--out", str(out), "--image-size",
            "32", "--gan-steps", "4", "--epochs", "1", "--ratios", "0,1", "--no-progress", "--threads", "1"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert str(out.resolve()) in printed and "primary endpoint" in printed
    res = json.loads((out / "results.json").read_text())
    assert [a["name"] for a in res["arms"]] == ["baseline", "cgan ratio 1", "cgan synthetic only", "cgan selected"]
    proof = res["leakage"]["gan_proof"][0]["cgan"]
    assert proof["gan_reported_fingerprint"] == proof["gan_train_fingerprint"]
    assert "## Primary endpoint" in (out / "report.md").read_text()
    # a rerun resumes (no fold recomputed) and a changed option is refused with exit 2
    assert main(argv) == 0
    assert "finished earlier" in capsys.readouterr().out
    assert main(argv[:-2] + ["--folds", "3"]) == 2


def test_cli_bad_option_exits_2(tmp_path, capsys):
    assert main(["benchmark", "--data", "phantom", "--out", str(tmp_path), "--folds", "1"]) == 2
    assert "folds" in capsys.readouterr().err

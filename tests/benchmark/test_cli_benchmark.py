"""`medgan benchmark` end to end on a tiny phantom with a real (very short) GAN."""
import json
import shutil

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
    assert [a["name"] for a in res["arms"]] == ["baseline", "duplicate ratio 1", "class-weight", "strong-aug",
                                                "dcgan ratio 1", "dcgan balance", "dcgan pretrain",
                                                "dcgan synthetic only", "dcgan selected"]
    assert {a["scenario"] for a in res["arms"]} == {"full"}
    proof = res["leakage"]["gan_proof"][0]["dcgan"]
    assert proof["gan_reported_fingerprint"] == proof["gan_train_fingerprint"]
    assert "## Primary endpoint" in (out / "report.md").read_text()
    # a rerun resumes (no fold recomputed) and a changed option is refused with exit 2
    assert main(argv) == 0
    assert "finished earlier" in capsys.readouterr().out
    assert main(argv[:-2] + ["--folds", "3"]) == 2
    # GANs copied into a new folder are reused (same folds, same training data) and the report says so
    assert res["timing"]["gans_reused"] == 0
    out2 = tmp_path / "bench2"
    shutil.copytree(out / "gan", out2 / "gan")
    assert main([a if a != str(out) else str(out2) for a in argv]) == 0
    res2 = json.loads((out2 / "results.json").read_text())
    assert res2["timing"]["gans_reused"] == len(res2["leakage"]["gan_proof"]) == 2
    assert "2 GAN(s) were reused" in (out2 / "report.md").read_text()


def test_cli_bad_option_exits_2(tmp_path, capsys):
    assert main(["benchmark", "--data", "phantom", "--out", str(tmp_path), "--folds", "1"]) == 2
    assert "folds" in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("scenario, flags", [
    ("learning-curve", ["--real-fractions", "0.5,1"]),
    ("rare-class", ["--rare-class", "metastasis", "--rare-fraction", "0.5"]),
])
def test_cli_quick_scenarios_on_tiny_phantom(tmp_path, capsys, scenario, flags):
    out = tmp_path / scenario
    argv = ["benchmark", "--data", "phantom:n_per_class=12,seed=3", "--quick", "--out", str(out), "--image-size",
            "32", "--gan-steps", "4", "--epochs", "1", "--ratios", "0,1", "--no-progress", "--threads", "1",
            "--controls", "duplicate,class-weight", "--uses", "mix,balance,pretrain", *flags]
    assert main(argv) == 0
    assert "vs best control" in capsys.readouterr().out
    res = json.loads((out / "results.json").read_text())
    assert res["scenario"]["name"] == scenario and {a["scenario"] for a in res["arms"]} == {scenario}
    proofs = [p for fold in res["leakage"]["gan_proof"] for p in fold.values() if isinstance(p, dict)]
    assert all(p["gan_reported_fingerprint"] == p["gan_train_fingerprint"] for p in proofs)
    assert all(p["excluded_indices_in_gan_train"] == 0 for p in proofs)
    figure = "learning_curve.png" if scenario == "learning-curve" else "rare_class.png"
    assert (out / "figures" / figure).exists() and figure in (out / "report.md").read_text()

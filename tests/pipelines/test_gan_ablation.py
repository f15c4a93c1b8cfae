"""pipelines/gan_ablation.py: every variant on the same held-out patients, one table, resumable."""
import json


def test_two_variants_share_the_holdout_and_rerun_resumes(tmp_path, load_pipeline):
    ablation = load_pipeline("gan_ablation")
    argv = ["--data", "phantom:n_per_class=8,size=32", "--out", str(tmp_path), "--variants", "dcgan,cgan-info",
            "--steps", "2", "--per-class", "6", "--image-size", "16", "--fast", "--holdout", "0.4"]
    assert ablation.main(argv) == 0
    rows = json.loads((tmp_path / "ablation.json").read_text())["rows"]
    assert [r["variant"] for r in rows] == ["dcgan", "cgan-info"]
    for r in rows:
        assert set(ablation.COLUMNS) <= set(r["overall"]) and r["cpu_minutes"] >= 0
    holdouts = [json.loads((tmp_path / v / "run" / "generator.json").read_text())["holdout_patients"] for v in ("dcgan", "cgan-info")]
    assert holdouts[0] == holdouts[1] and holdouts[0]  # the same held-out patients for every variant
    assert list((tmp_path / "cgan-info" / "traversals").glob("*.png"))  # InfoGAN: a traversal grid per code
    table = (tmp_path / "ablation.md").read_text()
    assert "| dcgan |" in table and "| cgan-info |" in table
    before = (tmp_path / "dcgan" / "row.json").stat().st_mtime_ns
    assert ablation.main(argv) == 0  # finished variants are not recomputed
    assert (tmp_path / "dcgan" / "row.json").stat().st_mtime_ns == before
    png = tmp_path / "montage.png"
    assert ablation.main(["--montage", str(tmp_path), "--out", str(png)]) == 0
    height = int.from_bytes(png.read_bytes()[20:24], "big")  # PNG IHDR height
    assert height == round(0.9 * 3 * 110)  # three rows: real, dcgan, cgan-info; no empty rows for variants not run


def test_cpu_budget_gives_each_variant_the_steps_it_buys(tmp_path, load_pipeline):
    ablation = load_pipeline("gan_ablation")
    argv = ["--data", "phantom:n_per_class=6,size=32", "--out", str(tmp_path), "--variants", "dcgan",
            "--cpu-minutes", "0.01", "--per-class", "4", "--image-size", "16", "--fast", "--holdout", "0.4"]
    assert ablation.main(argv) == 0
    budget = json.loads((tmp_path / "dcgan" / "budget.json").read_text())
    row = json.loads((tmp_path / "dcgan" / "row.json").read_text())
    assert row["steps"] == budget["steps"] == max(1, int(0.6 / budget["cpu_s_per_step"]))
    assert json.loads((tmp_path / "dcgan" / "run" / "config.json").read_text())["steps"] == row["steps"]
    assert "0.01 CPU-minutes per GAN" in (tmp_path / "ablation.md").read_text()

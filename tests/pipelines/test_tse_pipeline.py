"""The train -> synthesize -> evaluate pipeline runs end to end on a tiny phantom and resumes."""
import json
from pathlib import Path

import pytest


@pytest.mark.slow
def test_pipeline_end_to_end_and_rerun(tmp_path: Path, load_pipeline) -> None:
    config = {
        "data": "phantom:n_per_class=8,seed=3,size=64",
        "train": {"model": "dcgan", "steps": 4, "batch_size": 8, "ngf": 8, "ndf": 8, "sample_every": 0,
                  "checkpoint_every": 2, "holdout_fraction": 0.25},
        "synthesize": {"per_class": 3, "format": "nifti", "seed": 1},
        "evaluate": {"per_class": 6, "seed": 0, "fast": True, "figures": False},
    }
    cfg = tmp_path / "cfg.json"
    cfg.write_text(json.dumps(config))
    out = tmp_path / "out"
    pipeline = load_pipeline("train_synthesize_evaluate")
    assert pipeline.main([str(cfg), "--out", str(out)]) == 0
    datalist = json.loads((out / "synthetic" / "datalist.json").read_text())
    assert len(datalist["training"]) == 3 * 3
    assert all((out / "synthetic" / item["image"]).is_file() for item in datalist["training"])
    quality = json.loads((out / "quality" / "quality.json").read_text())
    assert set(quality["per_class"]) == {"cyst", "metastasis", "hemangioma"}
    # a second run resumes training (already at the requested steps) and completes without error
    assert pipeline.main([str(cfg), "--out", str(out)]) == 0
    assert json.loads((out / "run" / "generator.json").read_text())["step"] == 4

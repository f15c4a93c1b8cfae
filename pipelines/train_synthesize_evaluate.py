"""End-to-end pipeline: train a GAN -> synthesize labelled NIfTI slices -> evaluate their quality.

A thin layer over the ``medgan`` CLI driven by a JSON config (see ``pipelines/configs/tse_*.json``)::

    python pipelines/train_synthesize_evaluate.py pipelines/configs/tse_phantom.json --out runs/tse_phantom

Writes ``OUT/run`` (the GAN run directory: samples, log, checkpoints, generator export),
``OUT/synthetic`` (images + ``datalist.json`` for ``monai.data.load_decathlon_datalist``) and
``OUT/quality`` (``quality.json``, ``quality.md``, figures). Re-running resumes each stage: training
continues from its last checkpoint, synthesis completes missing files, evaluation is recomputed.
For the downstream classifier benchmark use ``medgan benchmark --config pipelines/configs/benchmark_*.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from medgan.cli import main as medgan
from medgan.utils import atomic_save_json

#: Keys of the config file and their defaults.
DEFAULTS = {
    "data": "phantom",
    "train": {"model": "cgan", "steps": 3000},
    "synthesize": {"per_class": 100, "format": "nifti", "seed": 0},
    "evaluate": {"per_class": 100, "seed": 0},
}


def load_config(path: str | None) -> dict:
    """Defaults overlaid with the JSON file at ``path`` (one level deep)."""
    config = json.loads(json.dumps(DEFAULTS))
    if path:
        for key, value in json.loads(Path(path).read_text()).items():
            config[key] = {**config[key], **value} if isinstance(value, dict) and key in config else value
    return config


def stage_args(run: Path, config: dict, train_cfg: Path) -> list[list[str]]:
    """The three medgan command lines of the pipeline (``train_cfg``: the TrainConfig JSON file)."""
    train = ["train", "--data", config["data"], "--out", str(run), "--config", str(train_cfg), "--quiet"]
    if (run / "checkpoints" / "last.pt").is_file():
        train.append("--resume")
    syn, ev = config["synthesize"], config["evaluate"]
    synthesize = ["synthesize", "--checkpoint", str(run), "--per-class", str(syn["per_class"]),
                  "--format", syn["format"], "--seed", str(syn["seed"]), "--out", str(run.parent / "synthetic")]
    evaluate = ["evaluate", "--checkpoint", str(run), "--data", config["data"], "--per-class", str(ev["per_class"]),
                "--seed", str(ev["seed"]), "--out", str(run.parent / "quality")]
    evaluate += ["--fast"] if ev.get("fast") else []
    evaluate += ["--no-figures"] if ev.get("figures") is False else []
    return [train, synthesize, evaluate]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config", nargs="?", help="JSON config (data, train, synthesize, evaluate)")
    parser.add_argument("--out", required=True, help="output folder")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    train_cfg = out / "train_config.json"
    atomic_save_json(train_cfg, config["train"])
    for command in stage_args(out / "run", config, train_cfg):
        print(f"$ medgan {' '.join(command)}", flush=True)
        status = medgan(command)
        if status:
            return status
    print(f"done: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

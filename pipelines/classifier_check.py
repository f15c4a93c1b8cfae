"""Can the benchmark classifier learn a dataset at all? Baseline test AUC of one architecture, real data only.

Per seed: a patient-grouped 80/20 train/test split, then a patient-grouped 80/20 train/validation split
of the training part (the benchmark's proportions), :func:`medgan.benchmark.classifier.train_classifier`
with the benchmark's defaults and classic augmentation, and the macro one-vs-rest test AUC. Used to choose
the benchmark classifier (docs/benchmark.md, "Classifier")::

    python pipelines/classifier_check.py --arch classifier --channels 8,16,32,64
    python pipelines/classifier_check.py --arch resnet --channels 8,16,32,64
    python pipelines/classifier_check.py --data ../shared/data/head_ct --arch resnet
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from medgan.benchmark.classifier import ARCHS, ClassifierConfig, predict_proba, train_classifier
from medgan.benchmark.metrics import macro_auc
from medgan.data import load_data, prepare_tensors
from medgan.data.splits import grouped_split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="phantom:n_per_class=100")
    p.add_argument("--arch", choices=ARCHS, default="resnet")
    p.add_argument("--channels", default="8,16,32,64")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = prepare_tensors(load_data(args.data), image_size=64)
    y = torch.as_tensor(data.labels).numpy()
    patients = [str(x) for x in data.patients]
    config = ClassifierConfig(arch=args.arch, channels=tuple(int(c) for c in args.channels.split(",")))
    aucs = []
    for seed in args.seeds:
        train, test = (np.asarray(i) for i in grouped_split(y, patients, 0.2, seed, class_names=data.class_names))
        inner, val = (np.asarray(i) for i in grouped_split(y[train], [patients[i] for i in train], 0.2, seed + 7,
                                                             class_names=data.class_names))
        itr, ival = train[inner], train[val]
        start = time.time()
        model, info = train_classifier(data.images[itr], data.labels[itr], len(itr), data.images[ival],
                                       data.labels[ival], len(data.class_names), config, seed=seed)
        aucs.append(macro_auc(y[test], predict_proba(model, data.images[test])))
        print(f"{args.arch} {args.channels} seed {seed}: {len(itr)} training images, test AUC {aucs[-1]:.3f}, "
              f"best validation AUC {info['best_val_auc']:.3f}, {time.time() - start:.0f} s", flush=True)
    print(f"{args.arch} {args.channels} on {args.data}: mean test AUC {np.mean(aucs):.3f} over seeds {args.seeds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

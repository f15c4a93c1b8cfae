"""Can the benchmark classifier learn a dataset at all? Baseline test AUC of one architecture, real data only.

Per seed: a patient-grouped 80/20 train/test split, then a patient-grouped 80/20 train/validation split
of the training part (the benchmark's proportions), :func:`medgan.benchmark.classifier.train_classifier`
with the benchmark's defaults and classic augmentation, and the macro one-vs-rest test AUC. Used to choose
the benchmark classifier (docs/benchmark.md, "Classifier")::

    python pipelines/classifier_check.py --arch classifier --channels 8,16,32,64
    python pipelines/classifier_check.py --arch resnet --channels 8,16,32,64
    python pipelines/classifier_check.py --data ../shared/data/head_ct --arch resnet

With ``--fixed-split`` every seed uses the split of the first seed and only the classifier's own seed
(initialisation, shuffling, augmentation) changes: the spread of the printed test figures is the
training noise that every benchmark arm carries, and the last line shows how much averaging the
probabilities of several seeds (an ensemble) shrinks it::

    python pipelines/classifier_check.py --data phantom:n_per_class=40,roi=64 --fixed-split --seeds 0 1 2 3 4 5
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from medgan.benchmark.classifier import ARCHS, ClassifierConfig, predict_proba, train_classifier
from medgan.benchmark.metrics import choose_thresholds, macro_auc, score_predictions
from medgan.benchmark.protocol import resolve_positive
from medgan.data import load_data, prepare_tensors
from medgan.data.splits import grouped_split


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--data", default="phantom:n_per_class=100")
    p.add_argument("--arch", choices=ARCHS, default="resnet")
    p.add_argument("--channels", default="8,16,32,64")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--fixed-split", action="store_true",
                   help="one split (the first seed's) for all seeds: measure the classifier's seed-to-seed noise")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = prepare_tensors(load_data(args.data), image_size=64)
    y = torch.as_tensor(data.labels).numpy()
    patients = [str(x) for x in data.patients]
    config = ClassifierConfig(arch=args.arch, channels=tuple(int(c) for c in args.channels.split(",")))
    positive = resolve_positive(list(data.class_names), None)
    aucs, scores, probs = [], [], []
    for seed in args.seeds:
        split_seed = args.seeds[0] if args.fixed_split else seed
        train, test = (np.asarray(i) for i in grouped_split(y, patients, 0.2, split_seed, class_names=data.class_names))
        inner, val = (np.asarray(i) for i in grouped_split(y[train], [patients[i] for i in train], 0.2,
                                                             split_seed + 7, class_names=data.class_names))
        itr, ival = train[inner], train[val]
        start = time.time()
        model, info = train_classifier(data.images[itr], data.labels[itr], len(itr), data.images[ival],
                                       data.labels[ival], len(data.class_names), config, seed=seed)
        val_p, test_p = predict_proba(model, data.images[ival]), predict_proba(model, data.images[test])
        probs.append((val_p, test_p))
        scores.append(_scores(val_p, test_p, y[ival], y[test], positive))
        aucs.append(scores[-1]["auc"])
        print(f"{args.arch} {args.channels} seed {seed}: {len(itr)} training images, test AUC {aucs[-1]:.3f}, "
              f"sensitivity {scores[-1]['sensitivity']:.3f}, specificity {scores[-1]['specificity']:.3f}, "
              f"best validation AUC {info['best_val_auc']:.3f}, {time.time() - start:.0f} s", flush=True)
    print(f"{args.arch} {args.channels} on {args.data}: mean test AUC {np.mean(aucs):.3f} over seeds {args.seeds}")
    if args.fixed_split and len(args.seeds) > 1:
        for k in ("auc", "sensitivity", "specificity"):
            v = np.array([s[k] for s in scores])
            print(f"seed-to-seed noise on one split, {k}: sd {100 * v.std(ddof=1):.1f} points, "
                  f"range {100 * v.min():.1f}-{100 * v.max():.1f}")
        half = len(probs) // 2
        if half >= 2:
            ens = [_scores(np.mean([p[0] for p in group], 0), np.mean([p[1] for p in group], 0), y[ival], y[test],
                           positive) for group in (probs[:half], probs[half:2 * half])]
            print(f"two ensembles of {half} seeds each: test AUC {ens[0]['auc']:.3f} / {ens[1]['auc']:.3f}, "
                  f"sensitivity {ens[0]['sensitivity']:.3f} / {ens[1]['sensitivity']:.3f}, "
                  f"specificity {ens[0]['specificity']:.3f} / {ens[1]['specificity']:.3f}")
    return 0


def _scores(val_p: np.ndarray, test_p: np.ndarray, val_y: np.ndarray, test_y: np.ndarray,
            positive: int | None) -> dict[str, float]:
    """Test AUC, sensitivity and specificity at thresholds chosen on validation (Youden), as the benchmark does."""
    thr = choose_thresholds(val_p, val_y, positive, "youden")
    out = score_predictions(test_p, test_y, thr, positive)
    out["auc"] = macro_auc(test_y, test_p)
    return out


if __name__ == "__main__":
    raise SystemExit(main())

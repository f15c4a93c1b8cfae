"""Class signal: a generator that returns real images teaches the class as well as real data (TSTR ratio ~1);
one that draws the other class's images under each label leaks its class (class_leak >> real_misclass)."""
import math

import pytest
import torch

from medgan.evaluation import quality_summary_markdown
from medgan.evaluation.class_signal import class_signal

from evaluation_fakes import fresh_draws, quick_quality


def signal(real, images, labels):
    train, holdout = real
    return class_signal(train.images, train.labels, holdout.images, holdout.labels, images, labels,
                        train.class_names, seed=0, epochs=4, min_steps=150)


def test_real_images_as_synthetic_give_tstr_ratio_near_one_and_no_leak(real):
    fresh = fresh_draws()  # fresh draws of the real distribution, correctly labelled
    res = signal(real, fresh.images, fresh.labels)
    for group in [res["overall"], *res["per_class"].values()]:
        assert group["tstr_ratio"] == pytest.approx(1.0, abs=0.08)
        assert group["class_leak"] <= max(2 * group["real_misclass"], 0.1)


def test_a_generator_that_copies_the_other_class_leaks(real):
    fresh = fresh_draws()
    swapped = 1 - fresh.labels  # every "bright" image is labelled "ring" and vice versa
    res = signal(real, fresh.images, swapped)
    for name, group in res["per_class"].items():
        assert group["class_leak"] > 0.8, name
        assert group["class_leak"] > 2 * group["real_misclass"], name
        assert group["tstr_ratio"] < 0.5, name  # it teaches the wrong class: AUC far below real


def test_one_class_copied_into_the_other_shows_in_that_class_only(real):
    fresh = fresh_draws()
    labels = fresh.labels.clone()
    images = torch.where((labels == 1).view(-1, 1, 1, 1), fresh.images[labels == 0][: len(labels)].repeat(2, 1, 1, 1)[: len(labels)],
                         fresh.images)  # "ring" images are bright ellipses: the ring class leaks
    res = signal(real, images, labels)
    assert res["per_class"]["ring"]["class_leak"] > 0.8
    assert res["per_class"]["bright"]["class_leak"] < 0.2
    assert res["recipe"]["synthetic_epochs"] == res["recipe"]["real_epochs"]  # same set sizes -> same steps


def test_quality_report_carries_class_signal_per_class_and_overall(real):
    fresh = fresh_draws()
    res = quick_quality(real, fresh.images, fresh.labels, umap=False)
    for group in [res["overall"], *res["per_class"].values()]:
        for key in ("tstr_auc", "real_auc", "tstr_ratio", "class_leak", "real_misclass"):
            assert key in group and (group[key] is None or math.isfinite(group[key]))
    assert "TSTR AUC" in quality_summary_markdown(res)

"""Memorization: copies of training images are flagged; honest new images are not."""
import pytest
import torch

from medgan.errors import ConfigError
from medgan.evaluation.memorization import find_near_copies, memorization_report, nearest_train_distances

from evaluation_fakes import blobs


def test_nearest_distances_are_rms_pixel_units():
    train = torch.zeros(3, 1, 4, 4)
    train[1] += 0.5
    query = torch.full((1, 1, 4, 4), 0.4)
    d, idx = nearest_train_distances(query, train)
    assert idx.tolist() == [1] and d[0] == pytest.approx(0.1)


def test_copying_generator_is_flagged_and_real_one_is_not():
    train, holdout, fresh = blobs(30, seed=1), blobs(30, seed=2), blobs(30, seed=3)
    copies = train.images[:40] + 0.005 * torch.randn(40, 1, 32, 32, generator=torch.Generator().manual_seed(0))
    mem_copy = memorization_report(copies, train.images, holdout.images)
    mem_real = memorization_report(fresh.images, train.images, holdout.images)
    assert mem_copy["flagged_fraction"] == 1.0
    assert mem_real["flagged_fraction"] < 0.25
    assert mem_copy["median_synthetic_to_train"] < 0.1 * mem_real["median_synthetic_to_train"]
    assert mem_copy["closest"][0]["distance"] < 0.01 and len(mem_copy["closest"]) == 8
    assert 0.25 < mem_real["frac_closer_than_holdout_median"] < 0.75


def test_find_near_copies_mask():
    train = blobs(10, seed=4)
    synthetic = torch.cat([train.images[:3], blobs(3, seed=5).images])  # 3 exact copies, 6 new images
    mask = find_near_copies(synthetic, train.images, threshold=0.02)
    assert mask.dtype == torch.bool and mask.tolist() == [True] * 3 + [False] * 6


def test_find_near_copies_bad_arguments():
    x = torch.zeros(2, 1, 8, 8)
    with pytest.raises(ConfigError, match="threshold"):
        find_near_copies(x, x, threshold=-1)
    with pytest.raises(ConfigError, match="shape"):
        find_near_copies(x, torch.zeros(2, 1, 16, 16), threshold=0.1)

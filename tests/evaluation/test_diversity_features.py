"""MS-SSIM diversity, feature extractors, two-sample test, views."""
import numpy as np
import pytest
import torch

from medgan.errors import ConfigError
from medgan.evaluation.diversity import mean_pairwise_ms_ssim, ms_ssim_config
from medgan.evaluation.features import build_feature_extractor
from medgan.evaluation.two_sample import two_sample_test
from medgan.evaluation.views import feature_correlations, knn_real_share, plot_correlations, plot_umap

from evaluation_fakes import blobs


@pytest.mark.parametrize("size,scales,kernel", [(64, 3, 7), (32, 3, 7), (16, 3, 3)])
def test_ms_ssim_config_fits_small_images(size, scales, kernel):
    cfg = ms_ssim_config(size)
    assert (cfg["scales"], cfg["kernel_size"]) == (scales, kernel)
    assert sum(cfg["weights"]) == pytest.approx(1.0)


def test_ms_ssim_identical_vs_diverse():
    data = blobs(10, seed=0)
    collapsed = data.images[:1].repeat(12, 1, 1, 1)
    assert mean_pairwise_ms_ssim(collapsed) == pytest.approx(1.0, abs=1e-4)
    assert mean_pairwise_ms_ssim(data.images) < 0.8
    assert mean_pairwise_ms_ssim(data.images, max_pairs=20, seed=1) == mean_pairwise_ms_ssim(data.images, 20, seed=1)
    assert np.isnan(mean_pairwise_ms_ssim(data.images[:1]))


def test_feature_extractors_are_deterministic_and_trained_one_learns():
    data, test = blobs(20, seed=0), blobs(10, seed=9)
    a = build_feature_extractor("trained", data.images, data.labels, 2, seed=3, epochs=3)
    b = build_feature_extractor("trained", data.images, data.labels, 2, seed=3, epochs=3)
    assert torch.equal(a(test.images), b(test.images))
    assert a(test.images).shape == (20, a.model.feature_dim)
    acc = (a.model(test.images).argmax(1) == test.labels).float().mean()
    assert acc >= 0.8
    r1, r2 = build_feature_extractor("random", seed=1), build_feature_extractor("random", seed=2)
    assert not torch.equal(r1(test.images), r2(test.images))
    with pytest.raises(ConfigError):
        build_feature_extractor("imagenet")
    with pytest.raises(ConfigError):
        build_feature_extractor("trained")


def test_two_sample_test_separates_only_different_sets():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(60, 5)), rng.normal(size=(60, 5))
    same = two_sample_test(a, b, seed=0)
    diff = two_sample_test(a, b + 1.5, seed=0)
    assert abs(same["accuracy"] - 0.5) < 0.2 and diff["accuracy"] > 0.9
    assert np.isnan(two_sample_test(a[:1], b)["accuracy"])


def test_two_sample_groups_keep_patients_together():
    # each "patient" has two identical slices: ungrouped CV recognises patients, grouped CV cannot
    rng = np.random.default_rng(1)
    base = rng.normal(size=(30, 8))
    real = np.repeat(base, 2, axis=0)
    fake = rng.normal(size=(60, 8))
    groups = [f"p{i // 2}" for i in range(60)]
    grouped = two_sample_test(real, fake, seed=0, real_groups=groups)
    assert abs(grouped["accuracy"] - 0.5) < 0.2


def test_views_correlations_and_knn_share(tmp_path):
    rng = np.random.default_rng(0)
    real, same, far = rng.normal(size=(50, 4)), rng.normal(size=(50, 4)), rng.normal(size=(50, 4)) + 20
    assert knn_real_share(real, same)["share"] == pytest.approx(knn_real_share(real, same)["expected"], abs=0.15)
    assert knn_real_share(real, far)["share"] == 0.0
    corr = feature_correlations(real, real)
    assert corr["mean_abs_difference"] == pytest.approx(0.0) and corr["real"].shape == (4, 4)
    plot_correlations(corr, tmp_path / "c.png")
    plot_umap(rng.normal(size=(20, 2)), 10, np.array([0, 1] * 10), ["a", "b"], tmp_path / "u.png")
    assert (tmp_path / "c.png").stat().st_size > 1000 and (tmp_path / "u.png").stat().st_size > 1000

"""Fréchet distance, MMD, precision/recall, density/coverage on hand-made point sets."""
import numpy as np
import pytest
import torch

from medgan.evaluation.fidelity import density_coverage, fidelity_metrics, frechet_distance, mmd, precision_recall


def line(values):
    return np.stack([np.asarray(values, float), np.zeros(len(values))], 1)


def test_prdc_worked_example():
    # real on a line 0..4 (k=1 radius 1 each); fake at 0.5 (inside balls of 0 and 1) and at 10 (outside all)
    real, fake = line([0, 1, 2, 3, 4]), line([0.5, 10])
    p, r = precision_recall(real, fake, k=1)
    d, c = density_coverage(real, fake, k=1)
    assert p == pytest.approx(0.5)  # 1 of 2 fakes on the real manifold
    assert r == pytest.approx(1.0)  # fake radii are 9.5: the outlier's huge ball covers all real (known PR flaw)
    assert d == pytest.approx(1.0)  # (2 balls + 0) / (k * 2)
    assert c == pytest.approx(0.4)  # reals 0 and 1 have a fake within their radius


def test_prdc_disjoint_and_identical():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(60, 4))
    far = fidelity_metrics(real, real + 100.0, k=3)
    assert far["precision"] == far["recall"] == far["density"] == far["coverage"] == 0.0
    same = fidelity_metrics(real, real.copy(), k=3)
    assert same["precision"] == same["recall"] == same["coverage"] == 1.0
    assert same["frechet_distance"] == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_of_a_shift_is_squared_shift():
    rng = np.random.default_rng(1)
    real = rng.normal(size=(200, 3))
    shift = np.array([1.0, -2.0, 0.5])
    assert frechet_distance(real, real + shift) == pytest.approx(float(shift @ shift), rel=1e-6)
    assert frechet_distance(torch.from_numpy(real), torch.from_numpy(real)) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_survives_scipy_without_disp(monkeypatch):
    """MONAI passes sqrtm(disp=False); SciPy versions that dropped ``disp`` must give the same value."""
    import scipy.linalg

    rng = np.random.default_rng(2)
    real, fake = rng.normal(size=(80, 5)), rng.normal(0.3, 1.2, size=(70, 5))
    expected = frechet_distance(real, fake)
    plain = scipy.linalg.sqrtm

    def sqrtm_without_disp(a, **kw):
        if "disp" in kw:
            raise TypeError("sqrtm() got an unexpected keyword argument 'disp'")
        return plain(a, **kw)

    monkeypatch.setattr(scipy.linalg, "sqrtm", sqrtm_without_disp)
    assert frechet_distance(real, fake) == pytest.approx(expected, rel=1e-6)


def test_mmd_matches_closed_form_for_a_shift():
    # x symmetric around 0 and y = x + c: unbiased linear MMD^2 = |c|^2 - 2 S / (n (n - 1)), S = sum |x_i|^2
    rng = np.random.default_rng(2)
    half = rng.normal(size=(20, 3))
    x = np.concatenate([half, -half])
    c = np.array([0.5, 1.0, -1.0])
    n, s = x.shape[0], float((x ** 2).sum())
    assert mmd(x, x + c) == pytest.approx(float(c @ c) - 2 * s / (n * (n - 1)), rel=1e-9)


def test_mmd_unequal_sizes_is_seeded_and_small_for_one_distribution():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 4)), rng.normal(size=(120, 4))
    assert mmd(a, b, seed=0) == mmd(a, b, seed=0)
    assert abs(mmd(a, b)) < 0.1 < mmd(a, b + 1.0)


def test_too_few_points_give_nan():
    one = np.zeros((1, 2))
    assert np.isnan(frechet_distance(one, one)) and np.isnan(mmd(one, one))
    assert all(np.isnan(v) for v in precision_recall(one, one))

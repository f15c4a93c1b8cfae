"""Classifier and classic augmentation: shapes, determinism, identity at zero strength, it learns."""
import numpy as np
import torch

from medgan.benchmark.augment import ClassicAugment
from medgan.benchmark.classifier import ClassifierConfig, budget_steps, build_classifier, predict_proba, train_classifier
from medgan.benchmark.metrics import roc_auc

from benchmark_fakes import tiny_data


def test_augment_identity_flip_and_seed():
    x = torch.rand(4, 1, 16, 16) * 2 - 1
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.allclose(ClassicAugment(flip_prob=0, prob=0)(x, g()), x, atol=1e-5)
    assert torch.allclose(ClassicAugment(flip_prob=1, prob=0)(x, g()), x.flip(-1), atol=1e-5)
    a = ClassicAugment()
    y1, y2 = a(x, g()), a(x, g())
    assert torch.equal(y1, y2) and not torch.allclose(y1, x)
    assert y1.shape == x.shape and y1.min() >= -1 and y1.max() <= 1


def test_classifier_shape_and_backward():
    net = build_classifier(3, 32, channels=(4, 4, 8, 8))
    out = net(torch.randn(5, 1, 32, 32))
    assert out.shape == (5, 3)
    out.sum().backward()


def test_earlier_monai_classifier_arch_and_bad_archs():
    import pytest

    from medgan.benchmark.config import default_config
    from medgan.errors import ConfigError

    assert build_classifier(2, 32, channels=(4, 8), arch="classifier")(torch.randn(3, 1, 32, 32)).shape == (3, 2)
    with pytest.raises(ConfigError, match="4 stage widths"):
        build_classifier(2, 32, channels=(4, 8))
    with pytest.raises(ConfigError, match="arch"):
        default_config(classifier=ClassifierConfig(arch="vgg")).validate()
    with pytest.raises(ConfigError, match="4 stage widths"):
        default_config(classifier=ClassifierConfig(channels=(8, 16))).validate()


def test_budget_is_the_same_whatever_the_synthetic_share():
    cfg = ClassifierConfig(epochs=3, min_steps=5, batch_size=8)
    assert budget_steps(40, cfg) == 15  # 3 epochs x 5 steps of the REAL set
    assert budget_steps(4, cfg) == 5


def test_train_learns_separable_task_and_is_deterministic():
    torch.set_num_threads(1)
    d = tiny_data(n_per_class=16)
    idx = torch.arange(len(d))
    tr, va = idx[idx % 4 != 0], idx[idx % 4 == 0]
    cfg = ClassifierConfig(channels=(4, 4, 8, 8), epochs=1, min_steps=40, batch_size=8)
    runs = []
    for _ in range(2):
        model, info = train_classifier(d.images[tr], d.labels[tr], len(tr), d.images[va], d.labels[va], 2, cfg, seed=1)
        runs.append(predict_proba(model, d.images[va]))
        assert info["steps"] == 40
    assert np.allclose(runs[0], runs[1])
    assert roc_auc(d.labels[va].numpy() == 1, runs[0][:, 1]) > 0.9

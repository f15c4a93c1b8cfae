"""DiffAugment ops and adversarial losses."""
import pytest
import torch

from medgan.errors import ConfigError
from medgan.models.diffaugment import AUGMENTATIONS, DiffAugment, cutout, translation
from medgan.models.losses import d_loss, g_loss, gradient_penalty, mode_seeking, r1_penalty


@pytest.mark.parametrize("name", sorted(AUGMENTATIONS))
def test_ops_keep_shape_are_seeded_and_differentiable(name):
    x = (torch.rand(4, 1, 16, 16) * 2 - 1).requires_grad_(True)
    a = AUGMENTATIONS[name](x, torch.Generator().manual_seed(3))
    b = AUGMENTATIONS[name](x, torch.Generator().manual_seed(3))
    assert a.shape == x.shape
    torch.testing.assert_close(a, b)
    a.sum().backward()
    assert x.grad is not None


def test_cutout_blanks_a_quarter_and_translation_fills_background():
    ones = torch.ones(8, 1, 16, 16)
    frac = (cutout(ones, torch.Generator().manual_seed(0)) == -1).float().mean(dim=(1, 2, 3))
    assert torch.all(frac > 0) and torch.all(frac <= 0.25)
    t = translation(ones, torch.Generator().manual_seed(0))
    assert set(t.unique().tolist()) <= {-1.0, 1.0}


def test_empty_policy_is_identity_and_bad_policy_raises():
    x = torch.randn(2, 1, 8, 8)
    assert torch.equal(DiffAugment("")(x), x) and not DiffAugment("none")
    with pytest.raises(ConfigError, match="saturation"):
        DiffAugment("translation,saturation")


@pytest.mark.parametrize("kind", ["nonsaturating", "hinge", "wgan-gp"])
def test_losses_prefer_a_correct_discriminator(kind):
    good = d_loss(kind, torch.full((4,), 3.0), torch.full((4,), -3.0))
    bad = d_loss(kind, torch.full((4,), -3.0), torch.full((4,), 3.0))
    assert good < bad
    assert g_loss(kind, torch.full((4,), 3.0)) < g_loss(kind, torch.full((4,), -3.0))


def test_hinge_values_by_hand():
    assert d_loss("hinge", torch.tensor([2.0, 0.0]), torch.tensor([-2.0, 0.0])).item() == pytest.approx(1.0)


def test_r1_and_gradient_penalty():
    x = torch.randn(3, 1, 4, 4, requires_grad=True)
    assert r1_penalty((2 * x).sum(dim=(1, 2, 3)), x).item() == pytest.approx(4 * 16)
    d = lambda t: t.sum(dim=(1, 2, 3))  # gradient norm 4 everywhere -> (4-1)^2
    assert gradient_penalty(d, torch.randn(3, 1, 4, 4), torch.randn(3, 1, 4, 4)).item() == pytest.approx(9.0)


def test_mode_seeking_penalises_collapse_and_pairs_only_same_class():
    g = torch.Generator().manual_seed(0)
    z = torch.randn(16, 8, generator=g)
    y = torch.arange(4).repeat(4)
    varied = torch.randn(16, 1, 8, 8, generator=g)
    collapsed = varied[:1].repeat(16, 1, 1, 1) + 1e-3 * torch.randn(16, 1, 8, 8, generator=g)
    assert mode_seeking(collapsed, z, y) > 100 * mode_seeking(varied, z, y)
    # images that differ only between classes still count as collapsed within each class
    per_class = varied[:4][y]
    assert mode_seeking(per_class, z, y) > 1e4
    x = varied.clone().requires_grad_(True)
    mode_seeking(x, z, y).backward()
    assert x.grad.abs().sum() > 0
    assert mode_seeking(varied[:4], z[:4], torch.arange(4)) == 0  # no same-class pair

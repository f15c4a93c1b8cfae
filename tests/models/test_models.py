"""Shapes, backward passes, batch independence in eval, determinism of init, registry errors."""
import pytest
import torch

from medgan.errors import ConfigError
from medgan.models import build_discriminator, build_generator, dcgan_init_

torch.set_num_threads(1)
SMALL = {"ngf": 8}


@pytest.mark.parametrize("model", ["dcgan", "cgan", "fastgan"])
@pytest.mark.parametrize("size", [32, 64, 128])
def test_generator_and_discriminator_shapes_and_backward(model, size):
    G = build_generator(model, num_classes=3, image_size=size, latent_dim=16, ngf=8)
    D = build_discriminator(model, num_classes=3, image_size=size, ndf=8)
    z, y = torch.randn(6, 16), torch.tensor([0, 1, 2, 2, 1, 0])
    x = G(z, y)
    assert x.shape == (6, 1, size, size)
    assert x.min() >= -1 and x.max() <= 1
    logits = D(x, y)
    assert logits.shape == (6,)
    logits.sum().backward()
    assert all(p.grad is not None for p in G.parameters())


@pytest.mark.parametrize("model", ["dcgan", "cgan", "fastgan"])
def test_eval_output_does_not_depend_on_the_rest_of_the_batch(model):
    G = build_generator(model, num_classes=3, image_size=32, latent_dim=16, ngf=8)
    G.train()
    G(torch.randn(16, 16), torch.arange(16) % 3)  # move BN running stats away from init
    G.eval()
    z, y = torch.randn(5, 16), torch.tensor([2, 0, 1, 1, 2])
    with torch.no_grad():
        batch = G(z, y)
        single = torch.cat([G(z[i:i + 1], y[i:i + 1]) for i in range(5)])
    torch.testing.assert_close(batch, single, atol=1e-5, rtol=1e-5)


def test_per_class_generator_routes_by_label():
    G = build_generator("dcgan", num_classes=2, image_size=32, latent_dim=8, ngf=4).eval()
    z = torch.randn(4, 8)
    with torch.no_grad():
        out = G(z, torch.tensor([0, 1, 0, 1]))
        torch.testing.assert_close(out[[0, 2]], G.generators[0](z[[0, 2]]))
        torch.testing.assert_close(out[[1, 3]], G.generators[1](z[[1, 3]]))


def test_labels_change_conditional_output():
    G = dcgan_init_(build_generator("cgan", num_classes=2, image_size=32, latent_dim=8, ngf=4),
                    torch.Generator().manual_seed(0)).eval()
    with torch.no_grad():
        for norm in G.norms:
            norm.gain.weight[1].mul_(2.0)
        z = torch.randn(1, 8).repeat(2, 1)
        out = G(z, torch.tensor([0, 1]))
    assert not torch.allclose(out[0], out[1])


def test_dcgan_init_is_seeded_not_global():
    def make(seed):
        torch.manual_seed(seed * 100 + 7)  # the global RNG must not matter
        m = build_discriminator("cgan", num_classes=2, image_size=32, ndf=4)
        return dcgan_init_(m, torch.Generator().manual_seed(seed))

    a, b, c = make(1), make(1), make(2)
    x, y = torch.randn(3, 1, 32, 32), torch.tensor([0, 1, 0])
    torch.testing.assert_close(a(x, y), b(x, y))
    assert not torch.allclose(a(x, y), c(x, y))


def test_ac_head_returns_class_logits():
    D = build_discriminator("cgan", num_classes=4, image_size=32, ndf=4, ac_head=True)
    logits, cls = D(torch.randn(2, 1, 32, 32), torch.tensor([0, 3]), return_class_logits=True)
    assert logits.shape == (2,) and cls.shape == (2, 4)


@pytest.mark.parametrize("model,arch,match", [
    ("gan", {"num_classes": 2}, "unknown model"),
    ("cgan", {"num_classes": 2, "bogus": 1}, "unknown argument"),
    ("cgan", {}, "needs argument"),
    ("dcgan", {"num_classes": 2, "image_size": 48}, "power of two"),
])
def test_registry_rejects_bad_arguments(model, arch, match):
    with pytest.raises(ConfigError, match=match):
        build_generator(model, **arch)


@pytest.mark.parametrize("model", ["dcgan", "cgan"])
def test_minibatch_stddev_discriminator_sees_batch_diversity(model: str) -> None:
    from medgan.models import build_discriminator
    from medgan.models.dcgan import minibatch_stddev

    D = build_discriminator(model, num_classes=2, image_size=32, ndf=8, mbstd=True)
    x = torch.randn(8, 1, 32, 32, requires_grad=True)
    out = D(x, torch.tensor([0, 1] * 4))
    assert out.shape == (8,)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all()
    h = torch.randn(8, 3, 4, 4)
    assert torch.all(minibatch_stddev(h.new_ones(8, 3, 4, 4)) < 1e-3)  # identical samples: ~0 std
    assert torch.all(minibatch_stddev(h) > 0.1)
    # groups of consecutive samples: a diverse half never leaks into an identical half
    mixed = torch.cat([h[:4], h.new_ones(4, 3, 4, 4)])
    std = minibatch_stddev(mixed)[:, 0, 0, 0]
    assert torch.all(std[:4] > 0.1) and torch.all(std[4:] < 1e-3)


def test_minibatch_stddev_matches_torch_var_on_channels_last_bf16() -> None:
    from medgan.models.dcgan import minibatch_stddev

    h = torch.randn(16, 8, 4, 4).contiguous(memory_format=torch.channels_last)
    grouped = h.reshape(4, 4, 8, 4, 4)
    expected = (grouped.var(dim=1, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3)).repeat_interleave(4)
    assert torch.allclose(minibatch_stddev(h)[:, 0, 0, 0], expected, atol=1e-6)
    out = minibatch_stddev(h.bfloat16())
    assert out.dtype == torch.bfloat16 and out.shape == (16, 1, 4, 4)


def test_fastgan_sle_gates_and_reconstruction_decoder() -> None:
    from medgan.models.fastgan import reconstruction_loss

    G = build_generator("fastgan", num_classes=2, image_size=64, latent_dim=16, ngf=8)
    assert G.sle_pairs == [(0, 2), (1, 3)]  # 4x4 gates 16x16, 8x8 gates 32x32
    D = build_discriminator("fastgan", num_classes=2, image_size=64, ndf=8)
    real = torch.rand(4, 1, 64, 64) * 2 - 1
    logits, feat8 = D(real, torch.tensor([0, 1, 0, 1]), return_features=True)
    assert logits.shape == (4,) and feat8.shape[-2:] == (8, 8)
    assert D.reconstruct(feat8).shape == (4, 1, 32, 32)
    loss = reconstruction_loss(D, feat8, real)
    loss.backward()
    assert all(p.grad is not None for p in D.decoder.parameters())

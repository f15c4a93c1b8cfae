"""LeCam regularization and transitional conditioning (the small-data remedies of the GAN ablation)."""
import pytest
import torch

from medgan.errors import ConfigError
from medgan.models import build_discriminator, build_generator, losses, set_condition_strength
from medgan.training import Trainer, TrainConfig, read_generator_export, train


def test_lecam_is_zero_inside_the_moving_averages_and_grows_outside():
    inside = losses.lecam(torch.tensor([0.5, 0.8]), torch.tensor([1.2, 1.5]), ema_real=1.0, ema_fake=1.0)
    assert float(inside) == 0.0  # real below ema_fake, fake above ema_real: D is not overconfident
    outside = losses.lecam(torch.tensor([3.0]), torch.tensor([-3.0]), ema_real=1.0, ema_fake=-1.0)
    assert float(outside) == pytest.approx(4.0 ** 2 + 4.0 ** 2)


def test_zero_condition_strength_makes_g_and_d_ignore_the_label():
    g = build_generator("cgan", num_classes=3, latent_dim=8, image_size=16, ngf=4)
    d = build_discriminator("cgan", num_classes=3, image_size=16, ndf=4)
    with torch.no_grad():
        for m in g.modules():
            if hasattr(m, "gain"):
                m.gain.weight.normal_()
        d.embed.weight.normal_() if not hasattr(d.embed, "parametrizations") else None
    g.eval(), d.eval()
    z, x = torch.randn(4, 8), torch.randn(4, 1, 16, 16)
    y0, y1 = torch.zeros(4, dtype=torch.long), torch.full((4,), 2, dtype=torch.long)
    assert not torch.allclose(g(z, y0), g(z, y1))
    assert not torch.allclose(d(x, y0), d(x, y1))
    set_condition_strength(g, 0.0), set_condition_strength(d, 0.0)
    assert torch.allclose(g(z, y0), g(z, y1)) and torch.allclose(d(x, y0), d(x, y1))
    set_condition_strength(g, 1.0)
    assert not torch.allclose(g(z, y0), g(z, y1))


def test_transition_schedule_and_validation(tiny_config):
    cfg = tiny_config(steps=100, transition=(0.2, 0.6))
    assert [cfg.condition_strength(s) for s in (0, 19, 20, 40, 60, 99)] == pytest.approx([0, 0, 0, 0.5, 1, 1])
    assert tiny_config(steps=100).condition_strength(0) == 1.0
    assert TrainConfig.from_dict(cfg.to_dict()).transition == (0.2, 0.6)  # JSON round trip
    with pytest.raises(ConfigError, match="transition"):
        tiny_config(transition=(0.6, 0.2))
    with pytest.raises(ConfigError, match="transition"):
        tiny_config(model="dcgan", transition=(0.1, 0.5))
    with pytest.raises(ConfigError, match="lecam_weight"):
        tiny_config(lecam_weight=-1.0)


def test_lecam_training_resumes_exactly(tmp_path, tiny_config, tiny_data):
    train(tiny_config(steps=6, lecam_weight=0.3), tiny_data, tmp_path / "full", progress=False)
    train(tiny_config(steps=3, lecam_weight=0.3), tiny_data, tmp_path / "half", progress=False)
    train(tiny_config(steps=6, lecam_weight=0.3), tiny_data, tmp_path / "half", resume=True, progress=False)
    a = read_generator_export(tmp_path / "full")[0].state_dict()
    b = read_generator_export(tmp_path / "half")[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # the moving averages travel in the checkpoint


def test_transitional_training_logs_the_strength(tmp_path, tiny_config, tiny_data):
    train(tiny_config(steps=6, transition=(0.0, 0.5), log_every=1), tiny_data, tmp_path / "run", progress=False)
    rows = (tmp_path / "run" / "log.csv").read_text().splitlines()
    col = rows[0].split(",").index("condition_strength")
    assert [float(r.split(",")[col]) for r in rows[1:]] == pytest.approx([0, 1 / 3, 2 / 3, 1, 1, 1])


def test_lecam_moving_averages_follow_the_logits(tiny_config, tiny_data):
    trainer = Trainer(tiny_config(lecam_weight=0.3), tiny_data.images, tiny_data.labels, 2)
    for _ in range(3):
        trainer.train_step()
    assert trainer.lecam_ema["real"] != 0.0 and trainer.lecam_ema["fake"] != 0.0
    assert torch.is_tensor(trainer.state_dict()["lecam_ema"])

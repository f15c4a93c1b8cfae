"""TrainConfig defaults, validation and JSON round trip."""
import pytest

from medgan.errors import ConfigError
from medgan.training import MODEL_DEFAULTS, TrainConfig


@pytest.mark.parametrize("model", ["cgan", "dcgan", "fastgan"])
def test_model_defaults_are_filled_in_and_round_trip(tmp_path, model):
    cfg = TrainConfig(model=model)
    for key, value in MODEL_DEFAULTS[model].items():
        assert getattr(cfg, key) == value
    (tmp_path / "c.json").write_text(__import__("json").dumps(cfg.to_dict()))
    assert TrainConfig.from_json(tmp_path / "c.json") == cfg


def test_default_model_is_the_equal_cpu_winner_at_its_own_budget():
    cfg = TrainConfig()
    assert (cfg.model, cfg.ngf, cfg.steps) == ("fastgan", 8, 1800)
    cgan = TrainConfig(model="cgan")
    assert (cgan.ngf, cgan.steps) == (32, 3000)
    assert TrainConfig(steps=500, ngf=16).to_dict()["steps"] == 500  # explicit values still win


def test_explicit_values_win_over_defaults():
    cfg = TrainConfig(model="cgan", loss="nonsaturating", lr_d=1e-3, diffaugment="")
    assert (cfg.loss, cfg.lr_d, cfg.diffaugment, cfg.lr_g) == ("nonsaturating", 1e-3, "", 1e-4)


@pytest.mark.parametrize("kwargs,match", [
    ({"model": "vae"}, "unknown model"),
    ({"loss": "lsgan"}, "unknown loss"),
    ({"diffaugment": "color"}, "DiffAugment"),
    ({"steps": 0}, "steps"),
    ({"image_size": 48}, "image_size"),
    ({"model": "dcgan", "ac_weight": 1.0}, "ac_weight"),
    ({"mode_seeking": -1.0}, "mode_seeking"),
])
def test_invalid_options_raise_config_error(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs)


def test_unknown_keys_in_json_are_refused():
    with pytest.raises(ConfigError, match="unknown training option"):
        TrainConfig.from_dict({"model": "cgan", "learning_rate": 1})

"""amp="auto": resolved once, to a bool, from the device's bfloat16 support."""
import pytest

from medgan.errors import ConfigError
from medgan.training import TrainConfig
from medgan.training import precision


def test_auto_resolves_to_a_bool_recorded_in_the_config():
    cfg = TrainConfig(model="cgan", device="cpu", amp="auto")
    assert cfg.amp is precision.bf16_is_fast("cpu")
    assert TrainConfig.from_dict(cfg.to_dict()).amp is cfg.amp


def test_default_is_auto_so_bf16_only_where_it_is_native():
    assert TrainConfig(device="cpu").amp is precision.bf16_is_fast("cpu")
    assert TrainConfig(device="cpu", amp=False).amp is False


def test_cpu_decision_follows_the_cpu_flags(monkeypatch):
    precision.bf16_is_fast.cache_clear()
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx2", "avx512f"})
    assert precision.bf16_is_fast("cpu") is False
    precision.bf16_is_fast.cache_clear()
    monkeypatch.setattr(precision, "_cpu_flags", lambda: {"avx512f", "avx512_bf16"})
    assert precision.bf16_is_fast("cpu") is True
    precision.bf16_is_fast.cache_clear()
    assert precision.bf16_is_fast("mps") is False


def test_bad_amp_value_is_a_config_error():
    with pytest.raises(ConfigError, match="amp"):
        TrainConfig(model="cgan", amp="sometimes")


@pytest.mark.parametrize("argv, expected", [([], "auto-resolved"), (["--amp"], True), (["--amp", "auto"], "auto-resolved"),
                                            (["--amp", "off"], False), (["--amp", "on"], True)])
def test_train_cli_amp_flag(argv, expected):
    import argparse

    from medgan.cli.train import build_config, register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["train", "--data", "phantom", "--out", "unused", "--device", "cpu", *argv])
    amp = build_config(args).amp
    assert amp is (precision.bf16_is_fast("cpu") if expected == "auto-resolved" else expected)


def test_train_cli_rejects_a_bad_amp_value(capsys):
    import argparse

    from medgan.cli.train import register

    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    with pytest.raises(SystemExit):
        parser.parse_args(["train", "--data", "phantom", "--out", "unused", "--amp", "maybe"])
    assert "use auto, on or off" in capsys.readouterr().err

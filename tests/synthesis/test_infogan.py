"""InfoGAN codes: trained with a code head on D, drawn in [-1, 1] by the sampler, set by users, traversed."""
import pytest
import torch

from medgan.cli import main
from medgan.data.types import PreparedData
from medgan.data.windows import IntensityWindow
from medgan.errors import ConfigError
from medgan.synthesis import load_generator
from medgan.synthesis.traversal import code_traversal, save_traversals
from medgan.training import TrainConfig, train

TINY = {"model": "cgan", "image_size": 16, "batch_size": 8, "ngf": 4, "ndf": 4, "latent_dim": 8, "sample_every": 0,
        "checkpoint_every": 0, "num_threads": 1, "device": "cpu", "steps": 3}


@pytest.fixture(scope="module")
def info_run(tmp_path_factory):
    g = torch.Generator().manual_seed(0)
    labels = torch.arange(2).repeat_interleave(8)
    images = (torch.rand(16, 1, 16, 16, generator=g) * 2 - 1) * (0.5 + 0.5 * labels.view(-1, 1, 1, 1))
    data = PreparedData(images, labels, [f"p{i}" for i in range(16)], ["a", "b"], IntensityWindow(), [{}] * 16)
    out = tmp_path_factory.mktemp("info") / "run"
    train(TrainConfig(**TINY, info_codes=2), data, out, progress=False)
    return out


def test_sampler_draws_codes_in_range_and_users_can_set_them(info_run):
    sampler = load_generator(info_run)
    assert sampler.info_codes == 2
    z = sampler.latents([1, 2, 3])
    assert z[:, -2:].abs().max() <= 1.0
    fixed = sampler.latents([1, 2, 3], codes=[0.5, -1.0])
    assert torch.equal(fixed[:, -2:], torch.tensor([[0.5, -1.0]] * 3)) and torch.equal(fixed[:, :-2], z[:, :-2])
    a = sampler.sample_class(0, 4, seed=0, codes=[1.0, 1.0])
    b = sampler.sample_class(0, 4, seed=0, codes=[-1.0, -1.0])
    assert not torch.allclose(a, b)
    assert torch.equal(a, sampler.sample_class(0, 4, seed=0, codes=[1.0, 1.0]))
    with pytest.raises(ConfigError, match="2 finite numbers"):
        sampler.latents([1], codes=[0.1, 0.2, 0.3])


def test_traversal_moves_only_the_chosen_code(info_run, tmp_path):
    sampler = load_generator(info_run)
    grid = code_traversal(sampler, 1, code=0, values=(-1.0, 1.0), rows=3)
    assert grid.shape == (6, 1, 16, 16)
    assert not torch.allclose(grid[0], grid[1])  # same draw, code 0 at -1 vs +1
    with pytest.raises(ConfigError, match="2 InfoGAN code"):
        code_traversal(sampler, 0, code=5)
    assert len(save_traversals(sampler, tmp_path)) == 2 * 2  # classes x codes


def test_synthesize_codes_flag(info_run, tmp_path, capsys):
    assert main(["synthesize", "--checkpoint", str(info_run), "--per-class", "2", "--out", str(tmp_path / "s"),
                 "--format", "png", "--codes", "0.5,0", "--no-progress", "--device", "cpu"]) == 0
    assert main(["synthesize", "--checkpoint", str(info_run), "--per-class", "2", "--out", str(tmp_path / "t"),
                 "--codes", "0.5", "--no-progress", "--device", "cpu"]) == 2
    assert "needs 2 finite value" in capsys.readouterr().err


def test_info_codes_need_the_cgan_and_fit_in_z():
    with pytest.raises(ConfigError, match="info_codes"):
        TrainConfig(**{**TINY, "model": "dcgan"}, info_codes=2)
    with pytest.raises(ConfigError, match="info_codes"):
        TrainConfig(**TINY, info_codes=8)


def test_infogan_trains_under_bfloat16_autocast(tmp_path):
    """The code head's loss runs after the step's autocast block: it must autocast too (amp on any CPU)."""
    labels = torch.arange(2).repeat_interleave(8)
    images = torch.rand(16, 1, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    data = PreparedData(images, labels, [f"p{i}" for i in range(16)], ["a", "b"], IntensityWindow(), [{}] * 16)
    out = tmp_path / "bf16"
    train(TrainConfig(**{**TINY, "amp": True}, info_codes=2), data, out, progress=False)
    assert load_generator(out).info_codes == 2

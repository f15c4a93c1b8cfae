"""Tiny synthetic PreparedData for fast training tests."""
import pytest
import torch

from medgan.data.types import PreparedData
from medgan.data.windows import IntensityWindow


def make_data(n_per_class: int = 8, size: int = 16, classes=("a", "b"), seed: int = 0) -> PreparedData:
    g = torch.Generator().manual_seed(seed)
    k = len(classes)
    labels = torch.arange(k).repeat_interleave(n_per_class)
    yy, xx = torch.meshgrid(torch.linspace(-1, 1, size), torch.linspace(-1, 1, size), indexing="ij")
    radius = 0.3 + 0.3 * labels.float()[:, None, None]  # class = disc size
    images = torch.where(yy ** 2 + xx ** 2 < radius ** 2, 0.5, -1.0).unsqueeze(1)
    images = (images + 0.05 * torch.randn(images.shape, generator=g)).clamp(-1, 1)
    patients = [f"p{i // 2:03d}" for i in range(len(labels))]  # two slices per patient
    return PreparedData(images.float(), labels, patients, list(classes), IntensityWindow.resolve("abdomen", "HU"),
                        [{} for _ in range(len(labels))])


TINY = {"model": "cgan", "image_size": 16, "batch_size": 8, "ngf": 4, "ndf": 4, "latent_dim": 8, "log_every": 1,
        "sample_every": 0, "checkpoint_every": 0, "num_threads": 1, "device": "cpu"}


@pytest.fixture
def tiny_data() -> PreparedData:
    return make_data()


@pytest.fixture
def data_factory():
    """``make_data`` itself, for tests that need other sizes or seeds."""
    return make_data


@pytest.fixture
def tiny_config():
    """``tiny_config(**overrides) -> TrainConfig`` with TINY settings and 4 steps."""
    from medgan.training import TrainConfig

    return lambda **kw: TrainConfig(**{**TINY, "steps": 4, **kw})

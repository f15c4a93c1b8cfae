"""SyntheticDataset and mix_real_and_synthetic."""
from __future__ import annotations

import pytest
import torch
from monai.data import DataLoader, MetaTensor
from monai.transforms import RandFlipd

from medgan.errors import ConfigError, DataError
from medgan.transforms import SyntheticDataset, mix_real_and_synthetic


def test_counts_items_and_determinism(sampler):
    ds = SyntheticDataset(sampler, counts_per_class={"cyst": 2, "hemangioma": 3}, seed=5)
    assert len(ds) == 5 and ds.labels.tolist() == [0, 0, 2, 2, 2]
    item = ds[3]
    assert set(item) == {"image", "label", "synthetic", "seed"} and item["label"] == 2 and item["synthetic"] is True
    assert isinstance(item["image"], MetaTensor) and item["image"].shape == (1, 16, 16)
    torch.testing.assert_close(torch.as_tensor(ds[3]["image"]), torch.as_tensor(item["image"]))
    # same image as sample_class (nested: item j of class c is sample_class(c, n, seed)[j])
    torch.testing.assert_close(torch.as_tensor(item["image"]), sampler.sample_class(2, 3, seed=5)[1], atol=1e-5, rtol=0)
    other = SyntheticDataset(sampler, counts_per_class=[0, 0, 3], seed=6)
    assert not torch.allclose(torch.as_tensor(other[1]["image"]), torch.as_tensor(item["image"]))


def test_ratio_to_real_labels_and_as_tensors(sampler):
    ds = SyntheticDataset(sampler, ratio_to=torch.tensor([0, 0, 0, 0, 1, 2, 2]), ratio=0.5)
    assert ds.counts == [2, 0, 1]
    x, y = ds.as_tensors()
    assert x.shape == (3, 1, 16, 16) and y.tolist() == [0, 0, 2]
    torch.testing.assert_close(x[2], torch.as_tensor(ds[2]["image"]), atol=1e-5, rtol=0)


def test_transform_and_loader(sampler):
    ds = SyntheticDataset(sampler, counts_per_class=[2, 2, 2], transform=RandFlipd("image", prob=1.0, spatial_axis=1))
    batch = next(iter(DataLoader(ds, batch_size=6)))
    assert batch["image"].shape == (6, 1, 16, 16) and batch["label"].tolist() == [0, 0, 1, 1, 2, 2]
    torch.testing.assert_close(torch.as_tensor(ds[0]["image"]), sampler.sample_class(0, 1)[0].flip(-1), atol=1e-5, rtol=0)


def test_bad_arguments(sampler):
    with pytest.raises(ConfigError, match="exactly one"):
        SyntheticDataset(sampler)
    with pytest.raises(ConfigError, match="3 classes"):
        SyntheticDataset(sampler, counts_per_class=[1, 2])
    with pytest.raises(ConfigError, match="not one of"):
        SyntheticDataset(sampler, counts_per_class={"lymphoma": 1})
    with pytest.raises(DataError, match="classes"):
        SyntheticDataset(sampler, ratio_to=[0, 5], ratio=1.0)


def _real(labels):
    return [{"image": torch.zeros(1, 16, 16), "label": int(c)} for c in labels]


def test_mix_ratio_and_collate(sampler):
    real = _real([0] * 4 + [1] * 2 + [2] * 2)
    mixed = mix_real_and_synthetic(real, sampler, ratio=0.5, seed=1)
    assert len(mixed) == 8 + 2 + 1 + 1
    syn = mixed.datasets[1]
    assert syn.counts == [2, 1, 1] and set(mixed[9]) == {"image", "label"}
    assert not isinstance(mixed[9]["image"], MetaTensor)  # matches the real items' plain tensors
    batches = list(torch.utils.data.DataLoader(mixed, batch_size=12, shuffle=False))
    assert batches[0]["image"].shape == (12, 1, 16, 16)


def test_mix_balance_classes(sampler):
    real = _real([0] * 6 + [1] * 2 + [2] * 3)
    syn = mix_real_and_synthetic(real, sampler, ratio=0.5, balance_classes=True).datasets[1]
    totals = [n_real + n_syn for n_real, n_syn in zip([6, 2, 3], syn.counts)]
    assert syn.counts == [3, 7, 6] and len(set(totals)) == 1
    with pytest.raises(ConfigError):
        mix_real_and_synthetic(real, sampler, ratio=-1)


def test_mix_max_per_class_caps_what_a_pool_holds(sampler):
    real = _real([0] * 4 + [1] * 2 + [2] * 2)
    syn = mix_real_and_synthetic(real, sampler, ratio=2.0, seed=1, max_per_class=[3, 10, 0]).datasets[1]
    assert syn.counts == [3, 4, 0]
    with pytest.raises(ConfigError, match="max_per_class"):
        mix_real_and_synthetic(real, sampler, ratio=1.0, max_per_class=[1, 1])

"""SyntheticSample / SyntheticSampled: MONAI transform contract."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from monai.data import CacheDataset, DataLoader, Dataset, MetaTensor
from monai.transforms import Compose, EnsureTyped, RandFlipd, RandRotated
from monai.utils import set_determinism

from medgan.errors import DataError
from medgan.transforms.synthetic import (SyntheticSample, SyntheticSampled, SyntheticSampleD, SyntheticSampleDict,
                                         label_to_index)


def _items(n: int = 6, size: int = 16) -> list[dict]:
    return [{"image": torch.full((1, size, size), 0.25), "label": i % 3} for i in range(n)]


def _is_synthetic(img) -> bool:
    return isinstance(img, MetaTensor) and bool(img.meta.get("synthetic", False))


def test_aliases():
    assert SyntheticSampleD is SyntheticSampled and SyntheticSampleDict is SyntheticSampled


def test_prob0_changes_nothing(sampler):
    t = SyntheticSampled("image", sampler=sampler, prob=0.0)
    for item in _items():
        out = t(item)
        assert out["image"] is item["image"] and out["label"] == item["label"]


def test_prob1_synthetic_same_class(sampler):
    t = SyntheticSampled("image", sampler=sampler, prob=1.0).set_random_state(0)
    for item in _items():
        out = t(item)
        img = out["image"]
        assert _is_synthetic(img) and img.dtype == torch.float32 and img.shape == (1, 16, 16)
        assert out["label"] == item["label"] == img.meta["synthetic_class"]
        assert img.meta["generator_fingerprint"] == sampler.fingerprint
        # the recorded seed replays the image exactly
        ref = sampler.sample([item["label"]], [img.meta["synthetic_seed"]])[0]
        torch.testing.assert_close(img.as_tensor(), ref)


@pytest.mark.parametrize("label,expected", [(2, 2), (np.int64(1), 1), (torch.tensor(1), 1), (np.array([2]), 2),
                                            (torch.tensor([0.0, 0.0, 1.0]), 2), ("metastasis", 1)])
def test_label_forms(sampler, label, expected):
    assert label_to_index(label, sampler) == expected


def test_bad_label(sampler):
    with pytest.raises(DataError):
        label_to_index(np.zeros(5), sampler)


def test_resize_to_incoming_size_and_native(sampler):
    t = SyntheticSampled("image", sampler=sampler, prob=1.0, intensity="native").set_random_state(1)
    out = t({"image": torch.zeros(1, 24, 20), "label": 0})["image"]
    assert out.shape == (1, 24, 20)
    assert out.min() >= sampler.window.low - 1e-3 and out.max() <= sampler.window.high + 1e-3


def test_missing_keys(sampler):
    t = SyntheticSampled("image", sampler=sampler, prob=1.0)
    with pytest.raises(KeyError, match="image"):
        t({"label": 0})
    with pytest.raises(DataError, match="label key"):
        t({"image": torch.zeros(1, 16, 16)})
    t2 = SyntheticSampled("image", sampler=sampler, prob=1.0, allow_missing_keys=True)
    assert t2({"label": 0}) == {"label": 0}
    with pytest.raises(DataError, match="channel-first"):
        t({"image": torch.zeros(16, 16), "label": 0})


def test_array_version(sampler):
    t = SyntheticSample(sampler, prob=1.0).set_random_state(3)
    out = t(torch.zeros(1, 16, 16), 1)
    assert _is_synthetic(out) and out.meta["synthetic_class"] == 1
    assert SyntheticSample(sampler, prob=0.0)(img := torch.zeros(1, 16, 16), 1) is img


def test_set_random_state_reproducible(sampler):
    a = SyntheticSampled("image", sampler=sampler, prob=0.5)
    assert a.set_random_state(7) is a
    seq1 = [a(it)["image"] for it in _items()]
    seq2 = [a.set_random_state(7)(it)["image"] for it in _items()][:1] + [a(it)["image"] for it in _items()[1:]]
    for x, y in zip(seq1, seq2):
        torch.testing.assert_close(torch.as_tensor(x), torch.as_tensor(y))


def test_compose_with_monai_random_transforms(sampler):
    pipe = Compose([EnsureTyped("image"), SyntheticSampled("image", sampler=sampler, prob=1.0),
                    RandFlipd("image", prob=1.0, spatial_axis=0), RandRotated("image", range_x=0.3, prob=1.0)])
    pipe.set_random_state(0)
    out = pipe(_items()[0])
    assert out["image"].shape == (1, 16, 16) and out["image"].meta["synthetic"] is True


def test_after_cache_dataset_and_determinism(sampler):
    pipe = Compose([EnsureTyped("image"), SyntheticSampled("image", sampler=sampler, prob=0.5, flag_key="synthetic")])
    ds = CacheDataset(_items(8), transform=pipe, progress=False)
    assert ds._cache[0]["image"].meta.get("synthetic") is None  # cached part stops before the random transform

    def run_epoch():  # MONAI's DataLoader seeds the transforms from the (determinised) torch RNG
        set_determinism(seed=123)
        try:
            return [(bool(d["synthetic"][0]), torch.as_tensor(d["image"][0]).clone())
                    for d in DataLoader(ds, batch_size=1, num_workers=0)]
        finally:
            set_determinism(seed=None)

    a, b = run_epoch(), run_epoch()
    assert [f for f, _ in a] == [f for f, _ in b] and any(f for f, _ in a) and not all(f for f, _ in a)
    for (_, x), (_, y) in zip(a, b):
        torch.testing.assert_close(x, y)


def test_workers_draw_different_samples(sampler):
    pipe = SyntheticSampled("image", sampler=sampler, prob=1.0)
    ds = Dataset([{"image": torch.zeros(1, 16, 16), "label": 0} for _ in range(8)], transform=pipe)
    loader = DataLoader(ds, batch_size=1, num_workers=2, shuffle=False)
    seeds = [int(b["image"].meta["synthetic_seed"][0]) for b in loader]
    assert len(set(seeds)) == len(seeds)  # workers 0 and 1 (seeded differently by MONAI) never repeat a draw

"""Typed arms (one naming function, parsed back from saved records) and the benchmark's mixes built
through the public plug-in (``mix_real_and_synthetic`` / ``SyntheticDataset``)."""
import json
from pathlib import Path

import pytest
import torch

from medgan.benchmark.arms import ARM_KINDS, BASELINE, MIX, ONLY, SELECTED, Arm, arm_name, parse_arm, planned_arms
from medgan.benchmark.synthetic import (
    RealItems,
    SyntheticPool,
    dataset_tensors,
    mix_with_real,
    pool_counts,
    synthetic_only,
)
from medgan.errors import DataError
from medgan.models import build_generator
from medgan.synthesis import GeneratorSampler
from medgan.transforms import SyntheticDataset, mix_real_and_synthetic

from benchmark_fakes import FakeSampler, tiny_data

RESULTS = Path(__file__).resolve().parents[2] / "docs" / "results"


@pytest.mark.parametrize("arm, name", [
    (Arm(None, BASELINE, 0.0), "baseline"),
    (Arm("cgan", MIX, 0.5), "cgan ratio 0.5"),
    (Arm("cgan", MIX, 2.0), "cgan ratio 2"),
    (Arm("dcgan", SELECTED), "dcgan selected"),
    (Arm("cgan", ONLY, 1.0), "cgan synthetic only"),
    (Arm("cgan", MIX, 1.0, real_fraction=0.25), "cgan ratio 1 real 0.25"),
])
def test_arm_names_and_parse_round_trip(arm, name):
    assert arm_name(arm) == arm.name == name
    back = parse_arm(name)
    assert (back.model, back.kind, back.real_fraction) == (arm.model, arm.kind, arm.real_fraction)
    if arm.kind == MIX:
        assert back == arm


def test_bad_arms_refused():
    with pytest.raises(DataError, match="not a benchmark arm"):
        parse_arm("cgan ratio two")
    for bad in (dict(model=None, kind=MIX, ratio=1.0), dict(model="cgan", kind=BASELINE), dict(model="cgan", kind="mix")):
        with pytest.raises(ValueError):
            Arm(**bad)


def test_planned_arms_order_and_kinds():
    names = [a.name for a in planned_arms(["cgan"], [0.5, 1.0], True, 1.0)]
    assert names == ["baseline", "cgan ratio 0.5", "cgan ratio 1", "cgan synthetic only", "cgan selected"]
    assert set(ARM_KINDS) == {"baseline", "control:duplicate", "control:class-weight", "control:strong-aug",
                              "synthetic:mix", "synthetic:balance", "synthetic:pretrain", "synthetic:selected",
                              "synthetic:only"}
    full = planned_arms(["cgan"], [1.0], False, 1.0, controls=("duplicate", "class-weight", "strong-aug"),
                        uses=("mix", "balance", "pretrain"), fractions=(0.25, 1.0))
    assert [a.name for a in full[:7]] == ["baseline", "duplicate ratio 1", "class-weight", "strong-aug",
                                          "cgan ratio 1", "cgan balance", "cgan pretrain"]
    assert full[8].name == "baseline real 0.25" and full[-1].name == "cgan selected real 0.25"
    for arm in full:  # every name reads back as the same typed arm (ratio of balance/pretrain/selected: None)
        assert parse_arm(arm.name) == (arm if arm.kind != "baseline" else Arm(None, "baseline", 0.0, arm.real_fraction))


def test_every_committed_arm_name_parses():
    """Names read back from the saved fold records of the committed runs."""
    paths = sorted(RESULTS.glob("*/folds/r0_f0.json"))
    if not paths:
        pytest.skip("no committed fold records")
    for path in paths:
        for name in json.loads(path.read_text())["arms"]:
            assert parse_arm(name).name == name, (path, name)


@pytest.fixture(scope="module")
def pool_and_real():
    data = tiny_data(n_per_class=7)
    sampler = FakeSampler(data)
    counts = [14, 14]
    return sampler, SyntheticPool.generate(sampler, counts, seed=123), (data.images, data.labels)


def _old_mix(pool, real, counts):
    """What ``SyntheticPool.mixed_with`` returned: real images, then the first counts[c] pool images per class."""
    xs = [pool.images[c][:n] for c, n in enumerate(counts) if n]
    ys = [torch.full((n,), c, dtype=torch.long) for c, n in enumerate(counts) if n]
    if not xs:
        return real
    return torch.cat([real[0].float()] + xs), torch.cat([real[1].long()] + ys)


@pytest.mark.parametrize("ratio", [0.5, 1.0, 2.0])
def test_benchmark_mix_is_the_plugins_mix_and_the_old_one(pool_and_real, ratio):
    sampler, pool, real = pool_and_real
    x, y = dataset_tensors(mix_with_real(pool, real, ratio))
    ox, oy = _old_mix(pool, real, pool_counts(pool, [7, 7], ratio))
    assert torch.equal(x, ox) and torch.equal(y, oy)  # bit-identical to the former SyntheticPool.mixed_with
    users = mix_real_and_synthetic(RealItems(*real), sampler, ratio, labels=real[1], seed=123)
    assert len(users) == len(y)
    ux = torch.stack([torch.as_tensor(users[i]["image"]) for i in range(len(users))])
    torch.testing.assert_close(ux, x, atol=1e-6, rtol=0)  # what a user's mix holds, item by item
    assert [int(users[i]["label"]) for i in range(len(users))] == y.tolist()


def test_filtered_pool_replays_kept_images_and_caps(pool_and_real):
    _, pool, real = pool_and_real
    kept = pool.with_images([pool.images[0][::3], pool.images[1][1::2]])  # 5 and 7 kept
    x, y = dataset_tensors(mix_with_real(kept, real, 2.0))  # asks 14 per class, the pool holds fewer
    ox, oy = _old_mix(kept, real, [5, 7])
    assert torch.equal(x, ox) and torch.equal(y, oy)
    sx, sy = dataset_tensors(synthetic_only(kept, pool_counts(kept, [7, 7], 1.0)))
    assert torch.equal(sx, torch.cat([kept.images[0][:5], kept.images[1][:7]])) and sy.tolist() == [0] * 5 + [1] * 7
    with pytest.raises(ValueError, match="pool holds"):
        SyntheticDataset(kept.as_sampler(), counts_per_class=[6, 0], seed=kept.seed).as_tensors()


def test_pool_of_a_real_generator_equals_the_users_dataset():
    g = build_generator("cgan", num_classes=2, latent_dim=8, image_size=16)
    meta = {"class_names": ["a", "b"], "image_size": 16, "latent_dim": 8, "window": {"name": "uint8", "units": "uint8"},
            "weights_sha256": "0" * 64}
    sampler = GeneratorSampler(g, meta)
    pool = SyntheticPool.generate(sampler, [6, 4], seed=7)
    x, y = dataset_tensors(synthetic_only(pool, [6, 4]))
    ux, uy = SyntheticDataset(sampler, counts_per_class=[6, 4], seed=7).as_tensors()
    assert torch.equal(x, ux) and torch.equal(y, uy)

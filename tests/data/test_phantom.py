"""The built-in CT phantom: contract, HU realism, determinism, patient grouping, bad arguments."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from medgan.data.phantom import PHANTOM_CLASSES, make_phantom, render_patient
from medgan.data.phantom_anatomy import draw_anatomy, grid, render_anatomy
from medgan.data.types import ITEM_KEYS, LoadedData
from medgan.errors import ConfigError


@pytest.fixture(scope="module")
def small() -> LoadedData:
    return make_phantom(n_per_class=6, seed=3)


def test_items_follow_the_contract(small: LoadedData) -> None:
    assert small.class_names == ["cyst", "metastasis", "hemangioma"]
    assert len(small) == 18
    for i, it in enumerate(small.items):
        assert set(ITEM_KEYS) <= set(it)
        assert it["image"].dtype == np.float32 and it["image"].shape == (128, 128)
        assert np.isfinite(it["image"]).all()
        assert it["units"] == "HU" and it["format"] == "phantom" and it["mode"] == "float32"
        assert it["orig_size"] == (128, 128)
        assert it["source"] == f"phantom:seed=3:{i}"
        assert it["patient"].startswith("phantom-p") and len(it["patient"]) == len("phantom-p0001")
    assert small.units == "HU"


def test_hounsfield_ranges(small: LoadedData) -> None:
    for it in small.items:
        img = it["image"]
        border = np.concatenate([img[:4].ravel(), img[-4:].ravel()])  # outside the body: air
        assert abs(float(border.mean()) + 1000.0) < 10.0
        assert img.max() > 400.0  # bone (vertebra) is present


def test_liver_roi_is_in_liver_range() -> None:
    rng = np.random.default_rng(0)
    x, y = grid(128)
    for _ in range(5):
        an = draw_anatomy(rng)
        img, liver = render_anatomy(an, x, y)
        assert liver.sum() > 500  # a sizeable liver
        assert 40.0 <= float(np.median(img[liver])) <= 80.0
    # in generated (blurred, noisy) normal slices, a liver ROI away from lesions still reads 40-80 HU
    rng = np.random.default_rng(1)
    an_rng = np.random.default_rng(1)
    an = draw_anatomy(an_rng)
    img = render_patient("normal", 1, rng)[0]
    _, liver = render_anatomy(an, x, y, z=0.0)  # same first draws -> same anatomy
    from scipy import ndimage

    core = ndimage.binary_erosion(liver, iterations=4)
    assert 40.0 <= float(np.median(img[core])) <= 80.0


def test_lesion_classes_look_different() -> None:
    """Cysts are darker than the liver; hemangiomas carry bright (blood-pool) nodules."""
    x, y = grid(128)
    lo = {}
    for kind in ("normal", "cyst", "hemangioma"):
        imgs = [render_patient(kind, 1, np.random.default_rng(s))[0] for s in range(6)]
        lo[kind] = imgs
    # with the same seed the anatomy is identical, so differences come from the lesion
    for s in range(6):
        diff_cyst = lo["cyst"][s] - lo["normal"][s]
        diff_hem = lo["hemangioma"][s] - lo["normal"][s]
        assert diff_cyst.min() < -25.0
        assert diff_hem.max() > 50.0


def test_deterministic_for_a_seed_and_seeds_differ() -> None:
    a, b, c = make_phantom(4, seed=7), make_phantom(4, seed=7), make_phantom(4, seed=8)
    assert [it["patient"] for it in a.items] == [it["patient"] for it in b.items]
    assert all(np.array_equal(p["image"], q["image"]) for p, q in zip(a.items, b.items))
    assert [it["label"] for it in a.items] == [it["label"] for it in b.items]
    assert not all(np.array_equal(p["image"], q["image"]) for p, q in zip(a.items, c.items))


def test_does_not_touch_global_rng() -> None:
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    make_phantom(2, seed=0)
    assert np.random.random() == before


@pytest.mark.parametrize("spp", [1, 2, 3])
def test_patient_grouping(spp: int) -> None:
    data = make_phantom(n_per_class=7, seed=1, slices_per_patient=spp)
    per_patient = Counter(it["patient"] for it in data.items)
    assert max(per_patient.values()) == spp
    # one disease class per patient
    for p in per_patient:
        assert len({it["label"] for it in data.items if it["patient"] == p}) == 1
    # patients per class = ceil(7 / spp)
    assert len(per_patient) == 3 * -(-7 // spp)
    assert data.class_counts() == {"cyst": 7, "metastasis": 7, "hemangioma": 7}


def test_slices_of_a_patient_are_nearby_but_not_identical() -> None:
    data = make_phantom(n_per_class=2, seed=2, slices_per_patient=2)
    by_patient: dict[str, list[np.ndarray]] = {}
    for it in data.items:
        by_patient.setdefault(it["patient"], []).append(it["image"])
    others = [v[0] for v in by_patient.values()]
    for imgs in by_patient.values():
        a, b = imgs
        assert not np.array_equal(a, b)
        within = np.abs(a - b).mean()
        across = np.mean([np.abs(a - o).mean() for o in others if o is not a])
        assert within < across


def test_include_normal_is_the_last_class() -> None:
    data = make_phantom(n_per_class=3, seed=0, include_normal=True, size=64)
    assert data.class_names == ["cyst", "metastasis", "hemangioma", "normal"]
    assert data.class_counts() == {"cyst": 3, "metastasis": 3, "hemangioma": 3, "normal": 3}
    assert data.items[0]["image"].shape == (64, 64)


def test_class_subset_and_order() -> None:
    data = make_phantom(n_per_class=2, seed=0, classes=("hemangioma", "cyst"))
    assert data.class_names == ["hemangioma", "cyst"]
    assert data.class_counts() == {"hemangioma": 2, "cyst": 2}
    assert set(PHANTOM_CLASSES) == {"cyst", "metastasis", "hemangioma", "normal"}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_per_class": 0}, "n_per_class"),
        ({"n_per_class": -3}, "n_per_class"),
        ({"n_per_class": 2.5}, "n_per_class"),
        ({"classes": ("cyst", "tumour")}, "tumour"),
        ({"classes": ()}, "at least one class"),
        ({"classes": ("cyst", "cyst")}, "repeat"),
        ({"size": 8}, "size"),
        ({"slices_per_patient": 0}, "slices_per_patient"),
        ({"roi": 8}, "roi"),
        ({"roi": 256}, "roi"),
        ({"roi": True}, "roi"),
    ],
)
def test_bad_arguments_raise_config_error_with_hint(kwargs: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match) as exc:
        make_phantom(**kwargs)
    assert exc.value.hint


def test_roi_crops_lesion_centred_regions() -> None:
    """roi=64: 64 x 64 crops of the same slices, centred on the lesion (it shows up near the centre)."""
    data = make_phantom(6, seed=2, classes=("cyst",), include_normal=True, roi=64, slices_per_patient=1)
    assert {it["image"].shape for it in data.items} == {(64, 64)}
    assert {it["orig_size"] for it in data.items} == {(64, 64)}
    assert data.info["roi"] == 64 and "roi=64" in data.spec
    centre = slice(64 // 2 - 8, 64 // 2 + 8)  # the lesion is within roi/8 = 8 px of the crop centre
    means = {}
    for kind in ("cyst", "normal"):
        crops = [render_patient(kind, 1, np.random.default_rng(s), roi=64)[0] for s in range(8)]
        assert {c.shape for c in crops} == {(64, 64)}
        means[kind] = float(np.mean([c[centre, centre].mean() for c in crops]))
    # cysts are near water (0-15 HU) in a liver of 40-80 HU: the crop centre is clearly darker
    assert means["cyst"] < means["normal"] - 20.0, means


def test_roi_zero_keeps_whole_slices() -> None:
    a, b = make_phantom(4, seed=5), make_phantom(4, seed=5, roi=0)
    assert all(np.array_equal(p["image"], q["image"]) for p, q in zip(a.items, b.items))
    assert a.items[0]["image"].shape == (128, 128)

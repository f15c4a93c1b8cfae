"""Optional checks on the real CT in ../shared/data (skipped with a reason where it is absent)."""
from __future__ import annotations

import numpy as np
import pytest

from medgan.data import load_data, prepare_tensors
from medgan.data.readers import read_image

pytestmark = pytest.mark.realdata


def test_head_ct_folder(shared_data):
    root = shared_data / "head_ct"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    data = load_data(str(root))
    assert len(data) == 200 and data.class_counts() == {"hemorrhage": 100, "normal": 100}
    assert data.units == "uint8" and {"RGB", "RGBA"} <= {it["mode"] for it in data.items}
    assert len(set(data.patients)) == 200  # one slice per person
    prep = prepare_tensors(data, image_size=64)
    assert prep.images.shape == (200, 1, 64, 64) and prep.window.units == "uint8"


def test_dicom_head_sample_in_hounsfield_units(shared_data):
    files = sorted((shared_data / "dicom_head_sample").glob("*.dcm"))
    if not files:
        pytest.skip("dicom_head_sample is absent")
    brain_medians = []
    for path in files:
        hu, meta = read_image(path)
        assert meta["units"] == "HU" and meta["patient"] and hu.shape == (512, 512)
        air = hu[5:40, 240:272]  # in front of the head, inside the field of view
        assert -1050 < np.median(air) < -950
        brain_medians.append(np.median(hu[192:320, 192:320]))
    assert 20 <= np.median(brain_medians) <= 45  # brain parenchyma in HU after rescale

"""CTWindow / ResizeToSquare (array + dict), the preprocessing Composes, and prepare_tensors."""
from __future__ import annotations


import numpy as np
import pytest
import torch
from monai.data import MetaTensor

from medgan.data import load_data, prepare_tensors
from medgan.errors import ConfigError
from medgan.transforms import (
    CTWindow, CTWindowd, CTWindowD, CTWindowDict, IntensityWindow, ResizeToSquare, ResizeToSquared,
    ResizeToSquareD, file_preprocessing_transforms, preprocessing_transforms,
)
from medgan_data_fixtures import write_nifti


@pytest.mark.parametrize("kwargs", [{"window": "brain"}, {"window": "40,80"}, {"window": (40, 80)},
                                    {"level": 40, "width": 80}, {"window": IntensityWindow("HU", 40, 80, "brain")}])
def test_ctwindow_brain_maps_and_clips(kwargs):
    hu = np.array([[-1000.0, 0.0, 40.0, 80.0, 3000.0]], dtype=np.float32)
    out = CTWindow(**kwargs)(hu)
    np.testing.assert_allclose(out, [[-1, -1, 0, 1, 1]], atol=1e-6)
    assert out.dtype == np.float32
    t = CTWindow(**kwargs)(torch.as_tensor(hu))
    assert isinstance(t, torch.Tensor) and torch.allclose(t, torch.as_tensor(out))


def test_ctwindow_uint8_ignores_hu_window():
    px = np.array([0.0, 127.5, 255.0], dtype=np.float32)
    np.testing.assert_allclose(CTWindow("brain", units="uint8")(px), [-1, 0, 1], atol=1e-6)
    np.testing.assert_allclose(CTWindow("brain")(px, units="uint8"), [-1, 0, 1], atol=1e-6)
    d = CTWindowd("image", window="brain")({"image": px, "units": "uint8"})
    np.testing.assert_allclose(d["image"], [-1, 0, 1], atol=1e-6)


def test_ctwindow_bad_arguments():
    with pytest.raises(ConfigError):
        CTWindow("nonsense")
    with pytest.raises(ConfigError):
        CTWindow(level=40)
    with pytest.raises(ConfigError):
        CTWindow("40,-5")


@pytest.mark.parametrize("shape, size, inner", [((1, 40, 20), 16, (16, 8)), ((1, 20, 40), 16, (8, 16)),
                                                ((2, 10, 10), 64, (64, 64)), ((1, 7, 30), 128, (30, 128))])
def test_resize_to_square_keeps_aspect_and_pads(shape, size, inner):
    img = torch.full(shape, 0.5)
    out = ResizeToSquare(size)(img)
    assert out.shape == (shape[0], size, size) and out.dtype == torch.float32
    content = (out[0] > -1).sum(dim=0).max().item(), (out[0] > -1).sum(dim=1).max().item()
    assert content == inner  # (rows, cols) of content
    assert torch.allclose(out[out > -1], torch.tensor(0.5))
    assert (out == -1).sum() == shape[0] * (size * size - inner[0] * inner[1])


def test_resize_downsampling_is_area_average():
    img = torch.zeros(1, 4, 4)
    img[0, :2, :2] = 1.0  # top-left quadrant
    out = ResizeToSquare(2)(img)
    assert torch.allclose(out[0], torch.tensor([[1.0, 0.0], [0.0, 0.0]]))


def test_dict_aliases_and_missing_key():
    assert CTWindowD is CTWindowd and CTWindowDict is CTWindowd and ResizeToSquareD is ResizeToSquared
    d = ResizeToSquared("image", size=8)({"image": np.zeros((1, 4, 2), np.float32), "label": 1})
    assert d["image"].shape == (1, 8, 8) and d["label"] == 1
    with pytest.raises(KeyError):
        CTWindowd("image")({"label": 1})
    assert CTWindowd("image", allow_missing_keys=True)({"label": 1}) == {"label": 1}


def test_preprocessing_compose_on_items():
    pipe = preprocessing_transforms(image_size=32, window="brain")
    out = pipe({"image": np.full((50, 25), 40.0, np.float32), "units": "HU", "label": 2})
    img = out["image"]
    assert isinstance(img, MetaTensor) and img.shape == (1, 32, 32) and img.dtype == torch.float32
    assert img.min() == -1 and torch.isclose(img[0, 16, 16], torch.tensor(0.0)) and out["label"] == 2


def test_file_preprocessing_from_nifti_path(tmp_path):
    path = write_nifti(tmp_path / "s.nii.gz", np.full((20, 10), 40.0, np.float32))
    out = file_preprocessing_transforms(image_size=16, window="brain")({"image": str(path)})
    assert out["image"].shape == (1, 16, 16) and torch.isclose(out["image"].max(), torch.tensor(0.0))


def test_prepare_tensors_png_folder(png_folder):
    data = load_data(str(png_folder))
    prep = prepare_tensors(data, image_size=64, window="brain")
    assert prep.images.shape == (6, 1, 64, 64) and prep.images.dtype == torch.float32
    assert isinstance(prep.images, MetaTensor)
    assert prep.images.min() >= -1 and prep.images.max() <= 1
    assert prep.window.units == "uint8"  # 8-bit data never get a HU window
    assert prep.labels.dtype == torch.int64 and prep.labels.tolist() == data.labels.tolist()
    assert prep.patients == list(data.patients) and prep.meta[0]["orig_size"] == data.items[0]["orig_size"]
    assert prepare_tensors(data, image_size=128).image_size == 128


def test_prepare_tensors_matches_window_math():
    data = load_data("phantom:n_per_class=1,seed=0,size=64")
    prep = prepare_tensors(data, image_size=64, window="abdomen")
    expected = IntensityWindow.resolve("abdomen", "HU").to_unit(torch.as_tensor(data.items[0]["image"]))
    assert torch.allclose(prep.images[0, 0].as_tensor(), expected.float(), atol=1e-6)

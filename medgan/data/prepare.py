"""``prepare_tensors``: LoadedData (native units, any size) -> model-ready (N, 1, S, S) tensors in [-1, 1]."""
from __future__ import annotations

import torch
from monai.data import MetaTensor

from medgan.data.preprocessing.dictionary import preprocessing_transforms
from medgan.data.types import LoadedData, PreparedData
from medgan.data.windows import IntensityWindow
from medgan.errors import ConfigError, DataError

__all__ = ["prepare_tensors"]

META_KEYS = ("source", "orig_size", "format", "mode", "units")


def prepare_tensors(data: LoadedData, image_size: int = 64, window: IntensityWindow | str | None = None) -> PreparedData:
    """Window, resize (keep aspect) and pad every item to ``image_size``; stack into tensors.

    Each item goes through :func:`medgan.transforms.preprocessing_transforms` (add channel -> window
    -> resize longest side -> pad with -1 -> float32 MetaTensor).

    Args:
        data: loader output.
        image_size: output side S (64 default, 128 also common).
        window: preset name, ``"L,W"`` or IntensityWindow; resolved with
            ``IntensityWindow.resolve(window, data.units)`` (8-bit data always get the uint8 window).

    Returns:
        PreparedData with images (N, 1, S, S) float32 MetaTensor, labels int64 (N,), patients, meta.
    """
    if len(data) == 0:
        raise DataError(f"{data.spec or 'data'}: no items to prepare", "check the data spec")
    if int(image_size) < 4:
        raise ConfigError(f"image size {image_size} is too small", "use e.g. 64 or 128")
    units = data.units
    if units == "mixed":
        raise DataError(f"{data.spec}: items mix 8-bit and HU intensities", "load one kind of file per dataset")
    win = IntensityWindow.resolve(window, units)
    pipeline = preprocessing_transforms(int(image_size), window=win, units=units)
    images = torch.empty((len(data), 1, int(image_size), int(image_size)), dtype=torch.float32)
    for i, item in enumerate(data.items):
        images[i] = pipeline({"image": item["image"]})["image"].as_tensor()
    labels = torch.as_tensor(data.labels, dtype=torch.int64)
    meta = [{k: item[k] for k in META_KEYS if k in item} for item in data.items]
    return PreparedData(MetaTensor(images), labels, [str(p) for p in data.patients], list(data.class_names), win, meta)

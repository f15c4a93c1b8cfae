"""Dictionary preprocessing transforms (MONAI style) and ready-made preprocessing pipelines.

``preprocessing_transforms`` is the exact pipeline :func:`medgan.data.prepare_tensors` runs:
add channel -> window to [-1, 1] -> resize longest side to S keeping aspect -> pad to S x S with -1
-> float32 ``MetaTensor``. ``file_preprocessing_transforms`` starts from a file path instead
(``LoadImaged``), for MONAI users building their own datasets.
"""
from __future__ import annotations

from typing import Hashable, Mapping, Sequence

import torch
from monai.config import KeysCollection
from monai.transforms import Compose, EnsureChannelFirstd, EnsureTyped, LoadImaged, MapTransform

from medgan.data.preprocessing.array import CTWindow, ResizeToSquare
from medgan.data.windows import IntensityWindow

__all__ = [
    "CTWindowd", "CTWindowD", "CTWindowDict",
    "ResizeToSquared", "ResizeToSquareD", "ResizeToSquareDict",
    "preprocessing_transforms", "file_preprocessing_transforms",
]


class CTWindowd(MapTransform):
    """Dictionary wrapper of :class:`~medgan.data.preprocessing.array.CTWindow`.

    Args:
        keys: keys of the images to window.
        window: IntensityWindow, preset name, ``"L,W"`` or ``(level, width)``; ``None`` = default.
        level: window level in HU (with ``width``).
        width: window width in HU.
        units: units of the input; ``None`` reads them from ``data[units_key]`` (default "HU").
        units_key: item key holding the units ("HU" or "uint8"), as medgan loaders write it.
        allow_missing_keys: don't raise if a key is absent.
    """

    backend = CTWindow.backend

    def __init__(
        self,
        keys: KeysCollection,
        window: IntensityWindow | str | tuple[float, float] | None = None,
        level: float | None = None,
        width: float | None = None,
        units: str | None = None,
        units_key: str = "units",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.units = units
        self.units_key = units_key
        self.windower = CTWindow(window, level, width, units or "HU")

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        units = self.units or str(d.get(self.units_key, "HU"))
        for key in self.key_iterator(d):
            d[key] = self.windower(d[key], units=units)
        return d


class ResizeToSquared(MapTransform):
    """Dictionary wrapper of :class:`~medgan.data.preprocessing.array.ResizeToSquare`.

    Args:
        keys: keys of the ``(C, H, W)`` images to resize.
        size: output side length (64 default, 128 also common).
        pad_value: fill value for the border (-1 = background in [-1, 1]).
        mode: "auto" (area down, bilinear up), "area", "bilinear" or "nearest".
        allow_missing_keys: don't raise if a key is absent.
    """

    backend = ResizeToSquare.backend

    def __init__(
        self,
        keys: KeysCollection,
        size: int = 64,
        pad_value: float = -1.0,
        mode: str = "auto",
        allow_missing_keys: bool = False,
    ) -> None:
        super().__init__(keys, allow_missing_keys)
        self.resizer = ResizeToSquare(size, pad_value, mode)

    def __call__(self, data: Mapping[Hashable, object]) -> dict[Hashable, object]:
        d = dict(data)
        for key in self.key_iterator(d):
            d[key] = self.resizer(d[key])
        return d


CTWindowD = CTWindowDict = CTWindowd
ResizeToSquareD = ResizeToSquareDict = ResizeToSquared


def preprocessing_transforms(
    image_size: int = 64,
    window: IntensityWindow | str | tuple[float, float] | None = None,
    keys: Sequence[str] = ("image",),
    units: str | None = None,
    add_channel: bool = True,
) -> Compose:
    """Compose for items whose ``"image"`` is an ``(H, W)`` array in native units.

    Args:
        image_size: output side S.
        window: intensity window (see :class:`CTWindowd`); 8-bit items always use the uint8 mapping.
        keys: image keys.
        units: force the input units; ``None`` reads each item's ``"units"`` key (default "HU").
        add_channel: add the channel axis first; set False for inputs already ``(C, H, W)``.

    Returns:
        a ``monai.transforms.Compose`` producing ``(1, S, S)`` float32 ``MetaTensor`` in [-1, 1].
    """
    steps = []
    if add_channel:
        steps.append(EnsureChannelFirstd(keys, channel_dim="no_channel"))
    steps += [
        CTWindowd(keys, window=window, units=units),
        ResizeToSquared(keys, size=image_size, pad_value=-1.0),
        EnsureTyped(keys, data_type="tensor", dtype=torch.float32, track_meta=True),
    ]
    return Compose(steps)


def file_preprocessing_transforms(
    image_size: int = 64,
    window: IntensityWindow | str | tuple[float, float] | None = None,
    keys: Sequence[str] = ("image",),
    units: str = "HU",
) -> Compose:
    """Like :func:`preprocessing_transforms` but ``"image"`` is a file path read by ``LoadImaged``.

    Meant for 2-D NIfTI slices in HU (``units="uint8"`` for 8-bit PNGs). The array is used in the
    reader's voxel order; medgan's own loaders (``medgan.data.load_data``) reorient instead.
    """
    return Compose([
        LoadImaged(keys, image_only=True, ensure_channel_first=True),
        CTWindowd(keys, window=window, units=units),
        ResizeToSquared(keys, size=image_size, pad_value=-1.0),
        EnsureTyped(keys, data_type="tensor", dtype=torch.float32, track_meta=True),
    ])

"""Array preprocessing transforms (MONAI style): CT windowing and resize-to-square.

Both work on channel-first arrays/tensors ``(C, H, W)``. Every channel is treated the same way, so a
stack of same-sized slices ``(N, H, W)`` can go through in one call (what ``prepare_tensors`` does).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from monai.config import NdarrayOrTensor
from monai.transforms import Transform
from monai.utils import convert_to_tensor

from medgan.data.windows import IntensityWindow
from medgan.errors import ConfigError

__all__ = ["CTWindow", "ResizeToSquare", "resolve_window", "square_geometry"]


def resolve_window(
    window: IntensityWindow | str | tuple[float, float] | None = None,
    units: str = "HU",
    level: float | None = None,
    width: float | None = None,
) -> IntensityWindow:
    """An :class:`IntensityWindow` from a window object, preset name, ``"L,W"``, ``(L, W)`` or level/width.

    8-bit data (``units="uint8"``) always get the uint8 window (0..255 -> -1..1).
    """
    if level is not None or width is not None:
        if level is None or width is None:
            raise ConfigError("give both level and width", "e.g. CTWindow(level=40, width=80)")
        window = f"{float(level)},{float(width)}"
    elif isinstance(window, (tuple, list)):
        if len(window) != 2:
            raise ConfigError(f"a window is (level, width), got {window!r}", "e.g. (40, 80)")
        window = f"{float(window[0])},{float(window[1])}"
    if isinstance(window, IntensityWindow) and units == "uint8" and window.units != "uint8":
        return IntensityWindow.resolve(None, "uint8")
    return IntensityWindow.resolve(window, units)


class CTWindow(Transform):
    """Window native intensities to [-1, 1] (clipped), units-aware.

    Args:
        window: an :class:`IntensityWindow`, a preset name ("brain", "abdomen", ...), ``"L,W"`` or
            ``(level, width)`` in HU; ``None`` means the default for the units (abdomen for HU).
        level: window level in HU (with ``width``; overrides ``window``).
        width: window width in HU.
        units: "HU" or "uint8"; 8-bit inputs use the 0..255 mapping whatever ``window`` says.
    """

    backend = [torch.Tensor, np.ndarray]

    def __init__(
        self,
        window: IntensityWindow | str | tuple[float, float] | None = None,
        level: float | None = None,
        width: float | None = None,
        units: str = "HU",
    ) -> None:
        self.units = units
        self._spec = (window, level, width)
        self.window = resolve_window(window, units, level, width)

    def for_units(self, units: str) -> IntensityWindow:
        """The window this transform applies to data in ``units``."""
        if units == self.units:
            return self.window
        window, level, width = self._spec
        return resolve_window(window, units, level, width)

    def __call__(self, img: NdarrayOrTensor, units: str | None = None) -> NdarrayOrTensor:
        """Window ``img``; ``units`` overrides the constructor's units for this call."""
        win = self.for_units(units or self.units)
        if isinstance(img, torch.Tensor):
            return win.to_unit(img.float())
        return win.to_unit(np.asarray(img, dtype=np.float32)).astype(np.float32, copy=False)


def square_geometry(height: int, width: int, size: int) -> tuple[int, int, int, int]:
    """(new_h, new_w, pad_top, pad_left): longest side -> ``size`` keeping aspect, centred padding."""
    scale = size / max(height, width)
    new_h = max(1, min(size, int(round(height * scale))))
    new_w = max(1, min(size, int(round(width * scale))))
    return new_h, new_w, (size - new_h) // 2, (size - new_w) // 2


class ResizeToSquare(Transform):
    """Resize the longest side to ``size`` keeping the aspect ratio, then pad to ``size x size``.

    Downsampling uses area averaging (no aliasing), upsampling bilinear interpolation. Padding is
    centred and filled with ``pad_value`` (-1 = background after windowing to [-1, 1]).

    Args:
        size: output side length (64 default; 128 also common).
        pad_value: value for the padded border.
        mode: "auto" (area down, bilinear up), "area", "bilinear" or "nearest".
    """

    backend = [torch.Tensor]

    def __init__(self, size: int = 64, pad_value: float = -1.0, mode: str = "auto") -> None:
        if int(size) < 1:
            raise ConfigError(f"image size must be >= 1, got {size}", "e.g. 64 or 128")
        if mode not in ("auto", "area", "bilinear", "nearest"):
            raise ConfigError(f"unknown resize mode {mode!r}", "use auto, area, bilinear or nearest")
        self.size = int(size)
        self.pad_value = float(pad_value)
        self.mode = mode

    def __call__(self, img: NdarrayOrTensor) -> torch.Tensor:
        """``(C, H, W)`` -> ``(C, size, size)`` float32 tensor."""
        t = convert_to_tensor(img, dtype=torch.float32, track_meta=False)
        if t.ndim != 3:
            raise ValueError(f"ResizeToSquare expects (C, H, W), got shape {tuple(t.shape)}")
        h, w = int(t.shape[-2]), int(t.shape[-1])
        new_h, new_w, top, left = square_geometry(h, w, self.size)
        if (new_h, new_w) != (h, w):
            mode = self.mode
            if mode == "auto":
                mode = "area" if new_h * new_w <= h * w else "bilinear"
            kwargs: dict[str, Any] = {"align_corners": False} if mode == "bilinear" else {}
            t = F.interpolate(t[None], size=(new_h, new_w), mode=mode, **kwargs)[0]
        if (new_h, new_w) == (self.size, self.size):
            return t.contiguous()
        out = torch.full((t.shape[0], self.size, self.size), self.pad_value, dtype=t.dtype)
        out[:, top : top + new_h, left : left + new_w] = t
        return out

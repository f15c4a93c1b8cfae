"""Intensity windows: how native intensities map to the [-1, 1] range the GAN and classifier see.

CT in Hounsfield units is windowed (level/width, clipped) with named presets; 8-bit images
(PNG/JPEG exports, already windowed by whoever exported them) are mapped 0..255 -> -1..1 without
pretending they are HU. ``from_unit`` maps model outputs back to the window's units for export.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from medgan.errors import ConfigError

#: Named CT windows (level, width) in Hounsfield units.
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "brain": (40.0, 80.0),
    "subdural": (75.0, 215.0),
    "stroke": (40.0, 40.0),
    "abdomen": (50.0, 400.0),
    "liver": (60.0, 160.0),
    "mediastinum": (50.0, 350.0),
    "lung": (-600.0, 1500.0),
    "bone": (400.0, 1800.0),
}


@dataclass(frozen=True)
class IntensityWindow:
    """A mapping between native intensities and [-1, 1].

    Args:
        units: "HU" (CT window, ``level``/``width`` used) or "uint8" (0..255 mapped linearly).
        level: window centre in HU.
        width: window width in HU.
        name: preset name or "custom"/"uint8".
    """

    units: str = "HU"
    level: float = 50.0
    width: float = 400.0
    name: str = "abdomen"

    def __post_init__(self) -> None:
        if self.units not in ("HU", "uint8"):
            raise ConfigError(f"unknown intensity units {self.units!r}", "use 'HU' or 'uint8'")
        if not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)
                   for v in (self.level, self.width)):
            raise ConfigError(f"window level and width must be finite numbers, got {self.level!r},{self.width!r}",
                              "e.g. --window 40,80 (level,width in HU) or a preset such as brain")
        if self.units == "HU" and not self.width > 0:
            raise ConfigError(f"window width must be > 0, got {self.width}", "e.g. --window 40,80")

    @property
    def low(self) -> float:
        """Native value mapped to -1."""
        return 0.0 if self.units == "uint8" else self.level - self.width / 2

    @property
    def high(self) -> float:
        """Native value mapped to +1."""
        return 255.0 if self.units == "uint8" else self.level + self.width / 2

    def to_unit(self, x: Any) -> Any:
        """Native intensities -> [-1, 1] (clipped). Works on numpy arrays and torch tensors."""
        y = (x - self.low) / (self.high - self.low) * 2.0 - 1.0
        return y.clip(-1.0, 1.0) if hasattr(y, "clip") else np.clip(y, -1.0, 1.0)

    def from_unit(self, y: Any) -> Any:
        """[-1, 1] -> native intensities (HU or 0..255)."""
        return (y + 1.0) / 2.0 * (self.high - self.low) + self.low

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "IntensityWindow":
        return cls(**{k: d[k] for k in ("units", "level", "width", "name") if k in d})

    @classmethod
    def resolve(cls, window: "str | IntensityWindow | None", units: str) -> "IntensityWindow":
        """Build a window from a preset name, ``"level,width"``, ``None`` (default for the units).

        8-bit data always get the uint8 window: a HU window on 0..255 values would be silent garbage.
        """
        if isinstance(window, IntensityWindow):
            return window
        if units == "uint8":
            return cls(units="uint8", level=127.5, width=255.0, name="uint8")
        if window is None or window == "":
            window = "abdomen"
        if window in WINDOW_PRESETS:
            level, width = WINDOW_PRESETS[window]
            return cls("HU", level, width, window)
        try:
            level_s, width_s = str(window).split(",")
            return cls("HU", float(level_s), float(width_s), "custom")
        except ValueError:
            raise ConfigError(
                f"unknown window {window!r}",
                f"use a preset ({', '.join(WINDOW_PRESETS)}) or 'LEVEL,WIDTH' in HU, e.g. '40,80'",
            ) from None

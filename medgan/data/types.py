"""The common currency of the data layer.

Every loader returns a :class:`LoadedData`: a list of MONAI-style item dicts plus the ordered class
names. Each item holds::

    {
        "image": np.ndarray (H, W) float32 in native units (HU for CT/DICOM/NIfTI/phantom,
                 0..255 for 8-bit PNG/JPEG),
        "label": int,                 # index into class_names
        "patient": str,               # grouping key: slices of one patient never straddle splits
        "source": str,                # file path (or "phantom:<seed>:<i>")
        "orig_size": (H, W),          # size before any resizing (confound checks)
        "format": str,                # "png", "jpeg", "tiff", "dicom", "nifti", "npz", "phantom"
        "mode": str,                  # e.g. "L", "RGB", "RGBA", "int16", "float32"
        "units": "HU" | "uint8",      # what the intensities mean (drives windowing)
    }
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from medgan.errors import DataError
from medgan.utils.hashing import fingerprint_tensors

ITEM_KEYS = ("image", "label", "patient", "source", "orig_size", "format", "mode", "units")
UNITS = ("HU", "uint8")


@dataclass
class LoadedData:
    """Items (MONAI-style dicts) plus ordered class names and a description of where they came from."""

    items: list[dict[str, Any]]
    class_names: list[str]
    spec: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def labels(self) -> np.ndarray:
        """Integer labels, one per item."""
        return np.asarray([int(it["label"]) for it in self.items], dtype=np.int64)

    @property
    def patients(self) -> np.ndarray:
        """Patient ids, one per item (the grouping key for splits)."""
        return np.asarray([str(it["patient"]) for it in self.items])

    @property
    def units(self) -> str:
        """The intensity units shared by all items ("HU" or "uint8")."""
        found = {it["units"] for it in self.items}
        return found.pop() if len(found) == 1 else "mixed"

    def class_counts(self) -> dict[str, int]:
        """Number of items per class name, in class order."""
        counts = np.bincount(self.labels, minlength=len(self.class_names))
        return {name: int(c) for name, c in zip(self.class_names, counts)}

    def subset(self, indices) -> "LoadedData":
        """A new LoadedData with the items at ``indices`` (same class names)."""
        return LoadedData([self.items[int(i)] for i in indices], list(self.class_names), self.spec, dict(self.info))


@dataclass
class PreparedData:
    """Model-ready tensors made from a :class:`LoadedData` by :func:`medgan.data.prepare_tensors`.

    Attributes:
        images: float32 tensor (N, 1, S, S) in [-1, 1] (windowed, resized/padded to S x S).
        labels: int64 tensor (N,).
        patients: patient id per image (grouping key).
        class_names: ordered class names.
        window: the :class:`~medgan.data.windows.IntensityWindow` that mapped native units to [-1, 1].
        meta: per-item metadata kept from the loader (source, orig_size, format, mode), one dict each.
    """

    images: Any
    labels: Any
    patients: list[str]
    class_names: list[str]
    window: Any
    meta: list[dict[str, Any]] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def image_size(self) -> int:
        return int(self.images.shape[-1])

    def fingerprint(self) -> str:
        """Content fingerprint of images + labels (recorded by every model trained on them)."""
        return fingerprint_tensors([self.images, self.labels])

    def subset(self, indices) -> "PreparedData":
        """The images at ``indices`` (same classes and window)."""
        idx = torch.as_tensor(list(indices), dtype=torch.long)
        return PreparedData(
            self.images[idx], self.labels[idx], [self.patients[int(i)] for i in idx],
            list(self.class_names), self.window, [self.meta[int(i)] for i in idx] if self.meta else [],
        )


def finalize(items: list[dict[str, Any]], class_names: list[str], spec: str, info: dict[str, Any]) -> LoadedData:
    """Check the items (keys, finite pixels, 2-D, one units kind, >= 2 classes) and wrap them."""
    if not items:
        raise DataError(f"{spec}: no images found", "check the path and the file types")
    units = set()
    for it in items:
        missing = [k for k in ITEM_KEYS if k not in it]
        if missing:
            raise DataError(f"{it.get('source', spec)}: item lacks keys {missing}", "report this as a medgan bug")
        img = np.asarray(it["image"], dtype=np.float32)
        if img.ndim != 2 or min(img.shape) < 1:
            raise DataError(f"{it['source']}: image has shape {img.shape}, expected (H, W)", "use single 2-D slices")
        if not np.isfinite(img).all():
            raise DataError(f"{it['source']}: image contains NaN or infinite pixels",
                            "fix or remove the file (NaN/inf cannot be windowed)")
        it["image"] = img
        units.add(it["units"])
    if len(units) > 1:
        raise DataError(f"{spec}: mixes 8-bit images and HU images ({sorted(units)})",
                        "use one kind of file per dataset (all PNG/JPEG, or all DICOM/NIfTI)")
    labels = np.asarray([int(it["label"]) for it in items])
    present = np.unique(labels)
    if len(class_names) < 2 or len(present) < 2:
        only = class_names[int(present[0])] if len(present) == 1 and int(present[0]) < len(class_names) else "?"
        raise DataError(f"{spec}: only one class ({only}) present; need at least two classes",
                        "add images of at least one more class")
    return LoadedData(items, list(class_names), spec, info)

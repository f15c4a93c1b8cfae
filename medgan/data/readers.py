"""Read one 2-D image file into native units: PNG/JPEG/TIFF, DICOM, 2-D NIfTI.

Each reader returns ``(image float32 (H, W), meta)`` with meta keys ``format``, ``mode``, ``units``
and optionally ``patient`` (DICOM PatientID). Failures raise :class:`DataError` naming the file.
NIfTI arrays are reoriented to the closest canonical (RAS+) orientation and shown the radiological
way (anterior at the top, patient's right on the image's left), like DICOM pixel data.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
from PIL import Image, UnidentifiedImageError

from medgan.errors import DataError

PIL_SUFFIXES = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff", ".tiff": "tiff"}
DICOM_SUFFIXES = {".dcm", ".dicom", ".ima"}
NIFTI_SUFFIXES = (".nii", ".nii.gz")
#: Largest 2-D image read (pixels): a CT slice is ~0.25 MP; a bigger file is a photo, a scan or a bomb.
MAX_PIXELS = 64_000_000
#: Words of pydicom's messages when a compressed transfer syntax has no decoder installed.
_NO_DECODER = ("pylibjpeg", "plugin", "handler", "decoder", "dependenc", "not supported", "gdcm")


def image_kind(path: Path) -> str | None:
    """"pil", "dicom", "nifti" or None (not an image file medgan reads)."""
    name = path.name.lower()
    if name.startswith("."):
        return None
    if name.endswith(NIFTI_SUFFIXES):
        return "nifti"
    suffix = path.suffix.lower()
    if suffix in PIL_SUFFIXES:
        return "pil"
    if suffix in DICOM_SUFFIXES:
        return "dicom"
    if suffix == "" and _has_dicom_preamble(path):
        return "dicom"
    return None


#: Extensions :func:`image_stem` strips, longest first (``scan.nii.gz`` -> ``scan``).
IMAGE_EXTENSIONS = tuple(sorted({*NIFTI_SUFFIXES, *PIL_SUFFIXES, *DICOM_SUFFIXES}, key=len, reverse=True))


def image_stem(name: str) -> str:
    """The file name without its image extension(s), never cut at an inner dot:
    ``2020.01.24.919183-p27-132.png`` -> ``2020.01.24.919183-p27-132``, ``ct.nii.gz`` -> ``ct``.
    A name without a known image extension (extension-less DICOM) is returned whole."""
    low = name.lower()
    for ext in IMAGE_EXTENSIONS:
        if low.endswith(ext) and len(name) > len(ext):
            return name[: -len(ext)]
    return name


def _has_dicom_preamble(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return len(head) == 132 and head[128:132] == b"DICM"


def read_image(path: str | Path, units: str | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a 2-D image file; ``units="HU"`` declares 16-bit PNG/TIFF values to be HU already."""
    path = Path(path)
    kind = image_kind(path)
    if kind == "pil":
        return read_pil(path, units)
    if kind == "dicom":
        return read_dicom(path)
    if kind == "nifti":
        return read_nifti_2d(path)
    raise DataError(f"{path}: not a supported image file", "use PNG, JPEG, TIFF, DICOM (.dcm) or NIfTI (.nii/.nii.gz)")


def read_pil(path: Path, units: str | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """PNG/JPEG/TIFF -> one channel. 8-bit -> units "uint8"; 16-bit -> HU if ``units="HU"`` else /257."""
    fmt = PIL_SUFFIXES[path.suffix.lower()]
    try:
        with Image.open(path) as im:
            _check_pixels(path, *im.size)
            im.load()
            mode = im.mode
            if mode in ("L", "P", "RGB", "RGBA", "LA", "CMYK", "YCbCr", "1"):
                arr = np.asarray(im.convert("L"), dtype=np.float32)
                return arr, {"format": fmt, "mode": mode, "units": "uint8"}
            arr = np.asarray(im)
    except Image.DecompressionBombError as exc:  # PIL's own limit (2 x MAX_IMAGE_PIXELS) is above ours
        raise DataError(f"{path}: image too large to read ({exc})",
                        f"medgan reads images up to {MAX_PIXELS / 1e6:g} megapixels: downscale the file") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"{path}: cannot read image ({exc})", "remove or replace the corrupt file") from None
    if arr.ndim == 3:  # multi-channel high bit depth: average the channels
        arr = arr.mean(axis=-1)
    arr = arr.astype(np.float32)
    if units == "HU":
        return arr, {"format": fmt, "mode": mode, "units": "HU"}
    if mode.startswith("I;16") or arr.max(initial=0) <= 65535 and arr.min(initial=0) >= 0:
        return arr / 257.0, {"format": fmt, "mode": mode, "units": "uint8"}
    raise DataError(
        f"{path}: {mode} image with values {arr.min():g}..{arr.max():g} has no known units",
        "pass units='HU' (e.g. --data 'folder' with load_data(spec, units='HU')) if the values are Hounsfield units",
    )


def _check_pixels(path: Path, width: int, height: int) -> None:
    """DataError before decoding an image larger than :data:`MAX_PIXELS`."""
    if int(width) * int(height) > MAX_PIXELS:
        raise DataError(f"{path}: image is {width} x {height} = {width * height / 1e6:.3g} megapixels, more than the "
                        f"{MAX_PIXELS / 1e6:g} megapixels medgan reads", "downscale it (CT slices are usually 512 x 512) "
                        "or remove it from the data folder")


def _dicom_decode_error(path: Path, ds: Any, exc: Exception) -> DataError:
    """The DataError for pixel data that does not decode: cut short, missing, or a codec not installed."""
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        return DataError(f"{path}: DICOM file has no pixel data (it is cut short, or holds no image)",
                         "copy the file again from its source, or remove it")
    syntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if syntax is not None and not syntax.is_compressed and "PixelData" in ds:
        frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
        expected = (int(getattr(ds, "Rows", 0)) * int(getattr(ds, "Columns", 0)) * int(getattr(ds, "SamplesPerPixel", 1) or 1)
                    * frames * int(getattr(ds, "BitsAllocated", 16) or 16) // 8)
        have = len(ds.PixelData)
        if have < expected:
            return DataError(f"{path}: DICOM file is cut short: its pixel data hold {have} of the {expected} bytes "
                             f"a {ds.Rows} x {ds.Columns} image needs",
                             "the file is truncated (an interrupted copy or download): copy it again, or remove it")
    if syntax is not None and syntax.is_compressed and any(k in str(exc).lower() for k in _NO_DECODER):
        return DataError(f"{path}: cannot decode compressed DICOM pixel data ({getattr(syntax, 'name', syntax)}: {exc})",
                         "install pylibjpeg and pylibjpeg-libjpeg (JPEG-compressed DICOM) or replace the file")
    return DataError(f"{path}: cannot decode DICOM pixel data ({exc})",
                     "the file is corrupt (cut short or a header that does not match its pixels): replace or remove it")


def read_dicom(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """DICOM -> HU via RescaleSlope/RescaleIntercept (JPEG-compressed files need pylibjpeg)."""
    try:
        ds = pydicom.dcmread(str(path))
    except Exception as exc:  # pydicom raises many types for corrupt files
        raise DataError(f"{path}: not a readable DICOM file ({exc})", "remove or replace the corrupt file") from None
    rows, cols = int(getattr(ds, "Rows", 0) or 0), int(getattr(ds, "Columns", 0) or 0)
    _check_pixels(path, cols, rows)
    try:
        pixels = ds.pixel_array
    except Exception as exc:
        raise _dicom_decode_error(path, ds, exc) from None
    if pixels.ndim != 2:
        raise DataError(f"{path}: DICOM pixel data has shape {pixels.shape}, expected one 2-D slice",
                        "split multi-frame or colour DICOM into single grey slices")
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    hu = pixels.astype(np.float32) * slope + intercept
    meta = {"format": "dicom", "mode": str(pixels.dtype), "units": "HU"}
    patient = str(getattr(ds, "PatientID", "") or "").strip()
    if patient:
        meta["patient"] = patient
    return hu, meta


def load_nifti_canonical(path: Path):
    """nibabel image reoriented to the closest canonical (RAS+) orientation; DataError if unreadable."""
    try:
        img = nib.load(str(path))
        if len(img.shape) == 2:  # give 2-D images a slice axis so reorientation is defined
            img = nib.Nifti1Image(np.asarray(img.dataobj)[..., None], img.affine, img.header)
        return nib.as_closest_canonical(img)
    except Exception as exc:
        raise DataError(f"{path}: cannot read NIfTI ({exc})", "remove or replace the corrupt file") from None


def axial_display(slice_xy: np.ndarray) -> np.ndarray:
    """A canonical (RAS+) axial slice indexed [x, y] -> (H, W) image, anterior up, patient right on the left."""
    return np.ascontiguousarray(np.flip(np.asarray(slice_xy).T, axis=(0, 1)), dtype=np.float32)


def crop_window(image: np.ndarray, centre: tuple[float, float], size: int) -> np.ndarray:
    """The ``size`` x ``size`` window of ``image`` centred on ``centre`` (row, col), shifted to stay
    inside; an image smaller than ``size`` along an axis is first padded (evenly) with its minimum."""
    pad = [(max(0, size - d) // 2, max(0, size - d) - max(0, size - d) // 2) for d in image.shape]
    if any(a or b for a, b in pad):
        image = np.pad(image, pad, constant_values=float(image.min()))
        centre = (centre[0] + pad[0][0], centre[1] + pad[1][0])
    r0 = int(np.clip(round(centre[0] - size / 2.0), 0, image.shape[0] - size))
    c0 = int(np.clip(round(centre[1] - size / 2.0), 0, image.shape[1] - size))
    return np.ascontiguousarray(image[r0:r0 + size, c0:c0 + size])


def read_nifti_2d(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """2-D NIfTI (or a 3-D one with a single slice) -> (H, W) in HU."""
    img = load_nifti_canonical(path)
    shape = tuple(int(s) for s in img.shape)
    if len(shape) != 3 or shape[2] != 1:
        # a 2-D image may land on another axis after reorientation; squeeze it to one slice
        squeezable = [ax for ax, s in enumerate(shape[:3]) if s == 1]
        if len(shape) != 3 or not squeezable:
            raise DataError(f"{path}: NIfTI has shape {shape}, expected one 2-D slice",
                            "use a CSV spec (path,slice,label,patient) to take slices from 3-D volumes")
    data = np.asarray(img.dataobj, dtype=np.float32)
    ax = 2 if shape[2] == 1 else [a for a, s in enumerate(shape) if s == 1][0]
    plane = np.take(data, 0, axis=ax)
    image = axial_display(plane) if ax == 2 else np.ascontiguousarray(np.flip(plane.T, axis=0), dtype=np.float32)
    return image, {"format": "nifti", "mode": str(img.get_data_dtype()), "units": "HU"}

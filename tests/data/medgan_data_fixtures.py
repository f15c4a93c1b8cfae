"""Writers of tiny on-disk test files (PNG, DICOM, NIfTI) for the data-layer tests."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def write_png(path: Path, array: np.ndarray, mode: str = "L") -> Path:
    """Write a uint8 (H, W) array as PNG in ``mode`` (L, RGB, RGBA) or a uint16 one as 16-bit PNG."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    if array.dtype == np.uint16:
        Image.fromarray(array).save(path)  # PIL picks I;16
        return path
    im = Image.fromarray(array.astype(np.uint8), "L")
    if mode == "RGBA":
        im = im.convert("RGBA")
        im.putalpha(200)
    elif mode != "L":
        im = im.convert(mode)
    im.save(path)
    return path


def write_dicom(path: Path, stored: np.ndarray, slope: float = 1.0, intercept: float = -1024.0,
                patient: str = "P001") -> Path:
    """Write an int16 (H, W) slice as an uncompressed CT DICOM with RescaleSlope/Intercept."""
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = "CT"
    ds.PatientID = patient
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 1
    ds.RescaleSlope = slope
    ds.RescaleIntercept = intercept
    ds.PixelData = stored.astype(np.int16).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(str(path), enforce_file_format=True)
    return path


def write_nifti(path: Path, data: np.ndarray, affine: np.ndarray | None = None) -> Path:
    """Write ``data`` as NIfTI with ``affine`` (identity if None)."""
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(np.asarray(data), np.eye(4) if affine is None else affine), str(path))
    return path


def pattern(h: int, w: int, seed: int, scale: float = 255.0) -> np.ndarray:
    """A smooth random pattern (distinct per seed, not near-duplicates of each other)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    a, b, c = rng.uniform(1, 6, 3)
    img = np.sin(a * 6 * xx + c) * np.cos(b * 6 * yy) + 0.3 * rng.standard_normal((h, w))
    return ((img - img.min()) / (np.ptp(img) + 1e-9) * scale)

"""Loaders driven by a table: CSV -> slices of 3-D NIfTI volumes, MedMNIST ``.npz``, MONAI datalist ``.json``."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
from monai.data import load_decathlon_datalist

from medgan.data.readers import axial_display, crop_window, image_stem, load_nifti_canonical, read_image
from medgan.data.types import LoadedData, finalize
from medgan.errors import ConfigError, DataError

__all__ = ["load_csv_volumes", "load_npz", "load_datalist", "parse_slices"]

CSV_COLUMNS = {  # canonical name -> accepted header spellings
    "path": ("path", "volume", "image", "file"),
    "slice": ("slice", "slices", "slice_index", "index"),
    "label": ("label", "class"),
    "patient": ("patient", "patient_id", "patientid"),
    "mask": ("mask", "roi_mask", "lesion_mask", "seg", "segmentation"),
}
NPZ_SPLITS = ("train", "val", "test")


def _class_index(values: list[str], class_names: list[str] | None = None) -> tuple[list[int], list[str]]:
    """Map raw label values to indices; names sorted (numerically when all are integers) unless given."""
    if class_names is None:
        uniq = sorted(set(values), key=lambda v: (0, int(v), "") if v.lstrip("-").isdigit() else (1, 0, v))
        class_names = [str(u) for u in uniq]
    lookup = {name: i for i, name in enumerate(class_names)}
    out = []
    for v in values:
        if v in lookup:
            out.append(lookup[v])
        elif v.lstrip("-").isdigit() and 0 <= int(v) < len(class_names):
            out.append(int(v))
        else:
            raise DataError(f"label {v!r} is not one of the classes {class_names}", "fix the label or the class list")
    return out, list(class_names)


def parse_slices(text: str, where: str = "") -> list[int]:
    """``"12"`` -> [12]; ``"10-20"`` -> [10, ..., 20] (inclusive)."""
    text = str(text).strip()
    single = re.fullmatch(r"\d+", text)
    rng = re.fullmatch(r"(\d+)\s*-\s*(\d+)", text)
    if single:
        return [int(text)]
    if rng and int(rng.group(1)) <= int(rng.group(2)):
        return list(range(int(rng.group(1)), int(rng.group(2)) + 1))
    raise DataError(f"{where}: bad slice {text!r}", "write a slice index (12) or an inclusive range (10-20)")


def load_csv_volumes(path: Path, roi: int = 0, units: str | None = None) -> LoadedData:
    """CSV with columns path, slice (index or "10-20"), label[, patient][, mask] -> axial slices of 3-D NIfTI.

    Volumes are reoriented to the closest canonical orientation (RAS+) with nibabel, so ``slice``
    counts along the inferior -> superior axis whatever the file's voxel order; each slice is shown
    anterior up, patient's right on the left. Paths are relative to the CSV's folder. Without a
    patient column, each volume is one patient.

    Args:
        roi: > 0 crops every slice to the ``roi`` x ``roi`` window centred on the foreground of the
            row's ``mask`` (a NIfTI label volume on the same grid: a lesion or organ segmentation) in
            that slice, as in lesion-ROI studies (spec ``slices.csv:roi=64``). The window is shifted
            to stay inside the slice; slices smaller than ``roi`` are padded with their minimum.
        units: NIfTI volumes hold Hounsfield units; only ``None`` or ``"HU"`` are accepted.
    """
    if units not in (None, "HU"):
        raise ConfigError(f"units={units!r} does not apply to NIfTI volumes (they hold HU)", "drop --units")
    if isinstance(roi, bool) or not isinstance(roi, int) or roi < 0 or 0 < roi < 8:
        raise ConfigError(f"roi must be 0 (whole slices) or a window side of at least 8 pixels, got {roi!r}",
                          "use e.g. slices.csv:roi=64")
    path = Path(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            found = [f.strip() for f in (reader.fieldnames or [])]
            rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str) or v is None}
                    for row in reader]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"{path}: cannot read the CSV ({exc})", "save it as UTF-8 text with a header line "
                        "path,slice,label[,patient]") from None
    cols: dict[str, str] = {}
    for canon, names in CSV_COLUMNS.items():
        hit = next((f for f in found if f.lower() in names), None)
        if hit:
            cols[canon] = hit
    missing = [c for c in ("path", "slice", "label") if c not in cols]
    if missing:
        raise DataError(f"{path}: CSV lacks column(s) {missing}; expected path,slice,label[,patient], found {found}",
                        "add a header line: path,slice,label,patient")
    if roi and "mask" not in cols:
        raise DataError(f"{path}: roi={roi} needs a mask column (a NIfTI segmentation per row) to centre the window",
                        "add a column mask with the lesion/organ mask of each volume, or drop roi")
    if not rows:
        raise DataError(f"{path}: CSV has no rows", "add one row per volume/slice range")
    labels_raw = [row[cols["label"]] for row in rows]
    label_idx, class_names = _class_index(labels_raw)
    cache: dict[Path, Any] = {}
    items: list[dict[str, Any]] = []
    for rownum, (row, label) in enumerate(zip(rows, label_idx), start=2):
        where = f"{path}:{rownum}"
        vol_path = _existing(path, row[cols["path"]], where, "volume")
        img, data = _volume(cache, vol_path)
        mask = None
        if roi:
            mask_path = _existing(path, row[cols["mask"]], where, "mask")
            mask = _volume(cache, mask_path)[1]
            if mask.shape != data.shape:
                raise DataError(f"{where}: mask {mask_path.name} has shape {mask.shape}, volume {vol_path.name} "
                                f"{data.shape}", "the mask must be a segmentation on the volume's voxel grid")
        n = data.shape[2]
        patient = row.get(cols.get("patient", ""), "") or image_stem(vol_path.name)
        for k in parse_slices(row[cols["slice"]], where):
            if not 0 <= k < n:
                raise DataError(f"{where}: slice {k} out of range for {vol_path.name} ({n} axial slices: 0..{n - 1})",
                                "slice indices count along the inferior->superior axis after reorientation to RAS")
            image = axial_display(data[:, :, k])
            orig = tuple(int(s) for s in image.shape)
            if mask is not None:
                fg = np.argwhere(axial_display(mask[:, :, k]) > 0)
                if not len(fg):
                    raise DataError(f"{where}: mask is empty on slice {k} of {vol_path.name}",
                                    "list only slices that show the masked lesion/organ, or drop roi")
                image = crop_window(image, tuple(fg.mean(0)), roi)
            items.append({"image": image, "label": label, "patient": patient, "source": f"{vol_path}#z={k}",
                          "orig_size": orig, "format": "nifti", "mode": str(img.get_data_dtype()), "units": "HU"})
    info = {"loader": "csv-nifti", "orientation": "RAS (closest canonical)"}
    if roi:
        info["roi"] = roi
    return finalize(items, class_names, str(path), info)


def _existing(csv_path: Path, rel: str, where: str, what: str) -> Path:
    full = (csv_path.parent / rel).resolve()
    if not rel or not full.exists():
        raise DataError(f"{where}: {what} {rel!r} not found", "paths are relative to the CSV's folder")
    return full


def _volume(cache: dict[Path, Any], path: Path) -> tuple[Any, np.ndarray]:
    """(nibabel image, float32 array) of a 3-D NIfTI; keeps the last two files (a volume and its mask)."""
    if path not in cache:
        img = load_nifti_canonical(path)
        if len(img.shape) != 3:
            raise DataError(f"{path}: expected a 3-D volume, shape {img.shape}", "use 3-D NIfTI volumes")
        while len(cache) >= 2:
            cache.pop(next(iter(cache)))
        cache[path] = (img, np.asarray(img.dataobj, dtype=np.float32))
    return cache[path]


def load_npz(path: Path, split: str = "all", class_names: list[str] | None = None, units: str | None = None, **_: Any) -> LoadedData:
    """MedMNIST ``.npz``: ``{train,val,test}_images`` + ``_labels``; ``split`` "all", "train", "train|val" ...

    MedMNIST has no patient ids, so every image is its own patient (recorded in ``info``).
    """
    path = Path(path)
    try:
        npz = np.load(path, allow_pickle=False)
        keys = set(npz.files)
    except Exception as exc:
        raise DataError(f"{path}: cannot read .npz ({exc})", "pass a MedMNIST-format .npz file") from None
    wanted = NPZ_SPLITS if split in ("all", "", None) else tuple(split if isinstance(split, tuple) else str(split).split("|"))
    present = [s for s in wanted if f"{s}_images" in keys or f"{s}_labels" in keys]
    problems = [f"{s}_{k}" for s in present for k in ("images", "labels") if f"{s}_{k}" not in keys]
    if not present or problems:
        expected = [f"{s}_{k}" for s in wanted for k in ("images", "labels")]
        raise DataError(f"{path}: missing keys {problems or expected}; found {sorted(keys)}",
                        "a MedMNIST .npz holds train_images/train_labels (and val_*, test_*)")
    items: list[dict[str, Any]] = []
    labels_all: list[str] = []
    for s in present:
        images, labels = _npz_array(npz, f"{s}_images", path), _npz_array(npz, f"{s}_labels", path, numeric=False)
        labels = labels.reshape(len(labels), -1) if labels.ndim and labels.size else labels.reshape(-1, 1)
        if images.ndim == 0:
            raise DataError(f"{path}: {s}_images is a single value, not an image array", "use a MedMNIST-format .npz")
        if images.shape[0] != labels.shape[0]:
            raise DataError(f"{path}: {s}_images has {images.shape[0]} images but {s}_labels {labels.shape[0]}",
                            "the image and label arrays must have the same length")
        if labels.shape[1] != 1:
            raise DataError(f"{path}: {s}_labels has shape {labels.shape} (multi-label)", "use a single-label MedMNIST set")
        if images.ndim == 4:
            images = images.mean(axis=-1)
        if images.ndim != 3:
            raise DataError(f"{path}: {s}_images has shape {images.shape}, expected (N, H, W)", "use a 2-D MedMNIST set")
        item_units = units or ("uint8" if images.dtype == np.uint8 else "HU")
        for i in range(images.shape[0]):
            img = images[i].astype(np.float32)
            items.append({"image": img, "label": 0, "patient": f"{path.stem}:{s}:{i}", "source": f"{path}#{s}[{i}]",
                          "orig_size": tuple(int(x) for x in img.shape), "format": "npz", "mode": str(images.dtype),
                          "units": item_units, "split": s})
        labels_all += [str(int(v)) for v in labels[:, 0]]
    idx, names = _class_index(labels_all, list(class_names) if class_names else None)
    for it, label in zip(items, idx):
        it["label"] = label
    info = {"loader": "npz", "splits": list(present),
            "patients": "MedMNIST has no patient ids: each image is its own patient (splits cannot group slices)"}
    return finalize(items, names, str(path), info)


def _npz_array(npz: Any, key: str, path: Path, numeric: bool = True) -> np.ndarray:
    """``npz[key]`` as a numeric array; DataError for object (pickled) arrays or unreadable members."""
    try:
        arr = npz[key]
    except ValueError as exc:  # "Object arrays cannot be loaded when allow_pickle=False"
        raise DataError(f"{path}: {key} is an object array ({exc})",
                        "save numeric arrays (uint8/float) with np.savez; medgan never unpickles data") from None
    except Exception as exc:  # a corrupt zip member
        raise DataError(f"{path}: cannot read {key} ({type(exc).__name__}: {exc})", "re-create the .npz file") from None
    if numeric and not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataError(f"{path}: {key} has dtype {arr.dtype}, expected numbers", "save numeric arrays with np.savez")
    return arr


def _as_written(resolved: list[dict[str, Any]], written: Any) -> list[dict[str, Any]]:
    """MONAI's entries with every value but "image" as written in the JSON.

    ``load_decathlon_datalist`` turns any string value that names an existing path beside the JSON
    (a label ``normal`` next to a ``normal/`` folder, ``..``) into an absolute path; labels and patient
    ids are names, not paths.
    """
    if not isinstance(written, list) or len(written) != len(resolved):
        return resolved
    return [{**e, **{k: v for k, v in w.items() if k != "image"}} if isinstance(w, dict) else e
            for e, w in zip(resolved, written)]


def load_datalist(path: Path, split: str = "training", units: str | None = None, **_: Any) -> LoadedData:
    """MONAI datalist ``.json`` (``load_decathlon_datalist``): entries with "image" + "label" (+ "patient").

    Class names come from a top-level "labels" or "classes" list, else the sorted unique labels.
    """
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: cannot read JSON ({exc})", "pass a MONAI datalist .json") from None
    if not isinstance(raw, dict) or split not in raw:
        found = sorted(raw) if isinstance(raw, dict) else type(raw).__name__
        raise DataError(f"{path}: datalist has no {split!r} list; found keys {found}",
                        'write {"training": [{"image": "a.png", "label": 0, "patient": "p1"}, ...]}')
    try:
        entries = load_decathlon_datalist(str(path), is_segmentation=False, data_list_key=split)
    except Exception as exc:
        raise DataError(f"{path}: not a valid datalist ({exc})", "each entry needs 'image' and 'label'") from None
    entries = _as_written(entries, raw[split])
    for n, e in enumerate(entries):
        missing = [k for k in ("image", "label") if k not in e]
        if missing:
            raise DataError(f"{path}: entry {n} of {split!r} lacks key(s) {missing}; found {sorted(e)}",
                            "each entry needs 'image' (a path) and 'label' (class name or index)")
        if not isinstance(e["image"], str) or not isinstance(e["label"], (str, int)) or isinstance(e["label"], bool):
            raise DataError(f"{path}: entry {n} of {split!r} has image {e['image']!r} and label {e['label']!r}",
                            "'image' is one path (a string), 'label' a class name or an integer index")
    declared = raw.get("labels") or raw.get("classes")
    names = [str(c) for c in declared] if isinstance(declared, list) else None
    label_idx, class_names = _class_index([str(e["label"]) for e in entries], names)
    items: list[dict[str, Any]] = []
    for e, label in zip(entries, label_idx):
        img_path = Path(e["image"])
        if not img_path.exists():
            raise DataError(f"{path}: image {img_path} not found", "image paths are relative to the JSON's folder")
        image, meta = read_image(img_path, units)
        patient = str(e.get("patient") or meta.pop("patient", None) or image_stem(img_path.name))
        meta.pop("patient", None)
        items.append({"image": image, "label": label, "patient": patient, "source": str(img_path),
                      "orig_size": tuple(int(s) for s in image.shape), **meta})
    return finalize(items, class_names, str(path), {"loader": "datalist", "split": split})

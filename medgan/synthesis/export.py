"""Write synthetic labelled images to disk for other tools: NIfTI or PNG, a MONAI datalist, a preview.

Layout of ``out_dir``::

    images/<class_name>/<class_name>_00000.nii.gz   (or .png)
    preview.png                                       first images of every class, one row per class
    synthesis.json                                    what generated them (generator, seed, units, spacing)
    datalist.json                                     {"training": [{"image", "label", "class_name"}], "labels": [...]}

Intensities: NIfTI images are float32 in the generator's native units, mapped back with
``window.from_unit`` -- Hounsfield units for models trained on HU data (values span the training window,
e.g. -150..250 HU for "abdomen"; nothing outside the window can be produced), 0..255 for models trained on
8-bit images. The NIfTI affine holds the pixel spacing: ``meta["spacing"]`` of the export where recorded,
else 1 mm (the phantom and unknown sources; ``synthesis.json`` says which). PNG images are 8-bit: the
window mapped linearly to 0..255.

Every file is written atomically; existing images from the same generator and seed are kept, so an
interrupted run can be re-run to complete it; ``datalist.json`` is written last, so a datalist never
lists a missing file.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import nibabel as nib
import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from medgan.errors import CheckpointError, ConfigError
from medgan.utils import atomic_path, atomic_save_json
from medgan.utils.paths import ensure_output_dir

__all__ = ["synthesize_to_dir", "FORMATS"]

FORMATS = {"nifti": ".nii.gz", "png": ".png"}
#: filter(images (N,1,S,S) in [-1,1], class index) -> bool mask (N,) of images to DROP.
NearCopyFilter = Callable[[torch.Tensor, int], torch.Tensor]


def _safe_name(name: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(name))
    return keep if keep.strip(".") else "class"  # never "", "." or "..": those are not folders of their own


def folder_names(class_names: list[str]) -> list[str]:
    """One distinct folder (and file prefix) per class: the class name made file-safe, with ``_<class index>``
    appended where two names would otherwise meet (``a/b`` and ``a_b``; ``Lesion`` and ``lesion`` on
    case-insensitive file systems)."""
    safe = [_safe_name(n) for n in class_names]
    counts: dict[str, int] = {}
    for s in safe:
        counts[s.casefold()] = counts.get(s.casefold(), 0) + 1
    out: list[str] = []
    taken = {s.casefold() for s in safe if counts[s.casefold()] == 1}
    for c, s in enumerate(safe):
        name = s
        if counts[s.casefold()] > 1:
            name = f"{s}_{c}"
            while name.casefold() in taken:
                name += f"_{c}"
        taken.add(name.casefold())
        out.append(name)
    return out


def _spacing(meta: dict[str, Any]) -> tuple[float, str]:
    value = meta.get("spacing")
    if isinstance(value, (int, float)) and value > 0:
        return float(value), "generator metadata"
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, (int, float)) and v > 0 for v in value):
        return float(value[0]), "generator metadata"
    return 1.0, "default 1 mm (spacing not recorded by the training data)"


def _to_uint8(unit: np.ndarray) -> np.ndarray:
    return np.clip(np.round((unit + 1.0) * 127.5), 0, 255).astype(np.uint8)


def _write_image(path: Path, unit: np.ndarray, fmt: str, window: Any, spacing: float) -> None:
    """Write one (S, S) image given in [-1, 1]."""
    with atomic_path(path) as tmp:
        if fmt == "nifti":
            native = np.asarray(window.from_unit(unit.astype(np.float64)), dtype=np.float32)
            img = nib.Nifti1Image(native, np.diag([spacing, spacing, 1.0, 1.0]))
            img.header.set_xyzt_units("mm")
            img.header["descrip"] = b"medgan synthetic"
            nib.save(img, str(tmp.with_suffix(".nii.gz")))  # nibabel picks compression by suffix
            os.replace(tmp.with_suffix(".nii.gz"), tmp)
        else:
            Image.fromarray(_to_uint8(unit), mode="L").save(tmp, format="PNG")


def _write_preview(path: Path, rows: list[np.ndarray]) -> None:
    """A grid PNG: one row per class (8-bit window), blank cells where a class has fewer images."""
    cols = max([len(r) for r in rows] + [1])
    size = next((len(r[0]) for r in rows if len(r)), 1)
    grid = np.zeros((len(rows) * (size + 2), cols * (size + 2)), dtype=np.uint8)
    for r, imgs in enumerate(rows):
        for c, im in enumerate(imgs):
            grid[r * (size + 2) + 1: r * (size + 2) + 1 + size, c * (size + 2) + 1: c * (size + 2) + 1 + size] = _to_uint8(im)
    with atomic_path(path) as tmp:
        Image.fromarray(grid, mode="L").save(tmp, format="PNG")


def synthesize_to_dir(sampler: Any, out_dir: str | os.PathLike, per_class: int, fmt: str = "nifti",
                      seed: int = 0, batch_size: int = 64, progress: bool = True,
                      drop_filter: NearCopyFilter | None = None, max_tries: int = 10,
                      codes: Sequence[float] | None = None) -> Path:
    """Synthesize ``per_class`` images of every class into ``out_dir``; returns the datalist path.

    Args:
        sampler: a :class:`medgan.synthesis.GeneratorSampler`.
        out_dir: output folder (created; re-running with the same generator and seed completes it).
        per_class: images per class.
        fmt: "nifti" (float32, native units, spacing in the affine) or "png" (8-bit window).
        seed: base seed; candidate j of class c uses ``derive_seed(seed, c, j)``.
        batch_size: generator batch size.
        progress: show a tqdm progress bar.
        codes: InfoGAN code values for every image (one per code); None = drawn per image.
        drop_filter: optional ``f(images, class) -> mask`` of candidates to drop (near copies of training
            images); dropped candidates are replaced by further seeds, up to ``max_tries * per_class``.
        max_tries: see ``drop_filter``.
    """
    _check_synthesis_args(fmt, per_class, batch_size)
    out = ensure_output_dir(out_dir, "--out")
    spacing, spacing_source = _spacing(sampler.meta)
    manifest = {
        "generator_fingerprint": sampler.fingerprint, "model": sampler.meta.get("model"), "seed": int(seed),
        "format": fmt, "per_class": int(per_class), "class_names": sampler.class_names,
        "window": sampler.window.to_dict(), "units": sampler.window.units if fmt == "nifti" else "uint8 (window)",
        "spacing_mm": spacing, "spacing_source": spacing_source,
        "data_fingerprint": sampler.meta.get("data_fingerprint"), "near_copy_filter": drop_filter is not None,
    }
    manifest_path = out / "synthesis.json"
    _claim_manifest(manifest_path, manifest)
    job = _ClassJob(sampler, out, folder_names(list(sampler.class_names)), per_class, fmt, seed, batch_size,
                    drop_filter, max_tries, codes, spacing)
    entries: list[dict[str, Any]] = []
    previews: list[np.ndarray] = []
    dropped = []
    bar = tqdm(total=per_class * sampler.num_classes, desc="synthesize", unit="img", disable=not progress)
    for c in range(sampler.num_classes):
        class_entries, preview, n_dropped = job.run(c, bar.update)
        entries += class_entries
        previews.append(preview)
        dropped.append(n_dropped)
    bar.close()
    _write_preview(out / "preview.png", [list(p) for p in previews])
    atomic_save_json(manifest_path, {**manifest, "complete": True, "dropped_near_copies": dropped,
                                     "n_images": len(entries)})
    datalist = {"name": "medgan synthetic", "labels": list(sampler.class_names),
                "numTraining": len(entries), "training": entries,
                "medgan": {k: manifest[k] for k in ("generator_fingerprint", "seed", "units", "spacing_mm")}}
    atomic_save_json(out / "datalist.json", datalist)
    return out / "datalist.json"


def _check_synthesis_args(fmt: str, per_class: int, batch_size: int) -> None:
    if fmt not in FORMATS:
        raise ConfigError(f"unknown image format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if int(per_class) < 1:
        raise ConfigError(f"--per-class must be >= 1, got {per_class}", "e.g. --per-class 100")
    if isinstance(batch_size, bool) or int(batch_size) < 1:
        raise ConfigError(f"--batch-size must be >= 1, got {batch_size}", "e.g. --batch-size 64")


def _claim_manifest(path: Path, manifest: dict[str, Any]) -> None:
    """Refuse a folder holding another generator's / seed's / format's images; mark this run incomplete."""
    if path.is_file():
        old = json.loads(path.read_text())
        same = {k: old.get(k) for k in ("generator_fingerprint", "seed", "format", "near_copy_filter")}
        if same != {k: manifest[k] for k in same}:
            raise ConfigError(f"{path.parent} already holds images from another generator/seed/format ({same})",
                              "choose a new --out folder (or delete the old one)")
    atomic_save_json(path, {**manifest, "complete": False})


@dataclass
class _ClassJob:
    """Writes one class's images (resuming: files already written are kept unless a filter is on)."""

    sampler: Any
    out: Path
    folders: list[str]
    per_class: int
    fmt: str
    seed: int
    batch_size: int
    drop_filter: NearCopyFilter | None
    max_tries: int
    codes: Sequence[float] | None
    spacing: Any

    def run(self, c: int, advance: Callable[[int], Any]) -> tuple[list[dict[str, Any]], np.ndarray, int]:
        """``(datalist entries, up to 8 preview images, candidates dropped)`` of class ``c``."""
        name = self.sampler.class_names[c]
        entries: list[dict[str, Any]] = []
        kept, j, dropped, preview = 0, 0, 0, []
        while kept < self.per_class:
            if j >= self.max_tries * self.per_class:
                raise ConfigError(f"class {name!r}: only {kept} of {self.per_class} candidates passed the near-copy "
                                  f"filter after {j} tries", "lower --per-class or relax the near-copy threshold")
            n = min(self.batch_size, self.per_class - kept) if self.drop_filter is None else self.batch_size
            paths = [self._path(c, kept + i) for i in range(n)]
            imgs, n_dropped = None, 0
            if not (self.drop_filter is None and all(p.is_file() for p in paths) and len(preview) >= 8):
                imgs, n_dropped = self._draw(c, n, j, kept)  # else: written by an earlier run
            dropped += n_dropped
            j += n
            count = n if imgs is None else len(imgs)
            for i in range(count):
                path = self._path(c, kept + i)
                if imgs is not None:
                    unit = imgs[i, 0].numpy()
                    if len(preview) < 8:
                        preview.append(unit)
                    if not path.is_file() or self.drop_filter is not None:
                        _write_image(path, unit, self.fmt, self.sampler.window, self.spacing)
                entries.append({"image": path.relative_to(self.out).as_posix(), "label": c, "class_name": name})
            kept += count
            advance(count)
        size = self.sampler.image_size
        return entries, (np.stack(preview) if preview else np.zeros((0, size, size))), dropped

    def _path(self, c: int, i: int) -> Path:
        return self.out / "images" / self.folders[c] / f"{self.folders[c]}_{i:05d}{FORMATS[self.fmt]}"

    def _draw(self, c: int, n: int, start: int, kept: int) -> tuple[torch.Tensor, int]:
        """``n`` candidates of class ``c`` from seed index ``start``, minus those the filter drops."""
        imgs = self.sampler.sample([c] * n, self.sampler.class_seeds(c, n, self.seed, start=start),
                                   batch_size=self.batch_size, codes=self.codes)
        if not torch.isfinite(imgs).all():
            raise CheckpointError(f"the generator produced NaN/inf pixels for class {self.sampler.class_names[c]!r} "
                                  "(no such image is written)", "its weights are broken: retrain, or use an earlier export")
        if self.drop_filter is None:
            return imgs, 0
        mask = torch.as_tensor(self.drop_filter(imgs, c), dtype=torch.bool).reshape(-1)
        return imgs[~mask][: self.per_class - kept], int(mask.sum())

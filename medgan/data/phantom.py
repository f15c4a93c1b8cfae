"""The built-in CT phantom: labelled axial abdominal CT slices in HU with focal liver lesions.

Everything in medgan runs on a fresh machine with no data thanks to this generator. It models the
classic liver-lesion setting (Frid-Adar et al. 2018: cysts, metastases, hemangiomas on portal-venous
CT) -- see ``docs/phantom.md`` for the model, the HU table and the measured difficulty.

Example::

    from medgan.data.phantom import make_phantom
    data = make_phantom(n_per_class=40, seed=0)
    data.class_names          # ['cyst', 'metastasis', 'hemangioma']
    data.items[0]["image"]    # float32 (128, 128) in HU
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage

from medgan.data.phantom_anatomy import draw_anatomy, grid, render_anatomy
from medgan.data.phantom_lesions import LESION_TYPES, NORMAL, Lesion, draw_lesions, render_lesion
from medgan.data.readers import crop_window
from medgan.data.types import LoadedData
from medgan.errors import ConfigError

__all__ = ["make_phantom", "PHANTOM_CLASSES", "render_patient"]

#: Every class name the phantom can generate.
PHANTOM_CLASSES = (*LESION_TYPES, NORMAL)

#: Per-patient noise standard deviation range (HU) at 128 x 128 and partial-volume blur sigma (px at 128).
NOISE_HU = (10.0, 25.0)
BLUR_PX = (0.5, 1.1)
NOISE_CORR_PX = 0.7


def _check_args(n_per_class: int, classes: Sequence[str], include_normal: bool, size: int,
                slices_per_patient: int, roi: int = 0) -> list[str]:
    if isinstance(classes, str):
        classes = [classes]
    names = [str(c).strip().lower() for c in classes]
    if not isinstance(n_per_class, (int, np.integer)) or isinstance(n_per_class, bool) or n_per_class < 1:
        raise ConfigError(f"phantom n_per_class must be an integer >= 1, got {n_per_class!r}",
                          "e.g. make_phantom(n_per_class=40) or --data phantom:n_per_class=40")
    if not names:
        raise ConfigError("phantom needs at least one class", f"choose from {', '.join(PHANTOM_CLASSES)}")
    unknown = [c for c in names if c not in PHANTOM_CLASSES]
    if unknown:
        raise ConfigError(f"unknown phantom class {unknown[0]!r}",
                          f"choose from {', '.join(PHANTOM_CLASSES)} (include_normal=True adds 'normal')")
    if include_normal and NORMAL not in names:
        names.append(NORMAL)  # the lesion-free class comes last, so lesion labels do not move
    if len(set(names)) != len(names):
        raise ConfigError(f"phantom classes repeat a name: {names}", "list each class once")
    if not isinstance(size, (int, np.integer)) or size < 32:
        raise ConfigError(f"phantom size must be an integer >= 32 pixels, got {size!r}", "e.g. size=128")
    if not isinstance(slices_per_patient, (int, np.integer)) or slices_per_patient < 1:
        raise ConfigError(f"phantom slices_per_patient must be an integer >= 1, got {slices_per_patient!r}",
                          "e.g. slices_per_patient=2")
    if not isinstance(roi, (int, np.integer)) or isinstance(roi, bool) or not (roi == 0 or 16 <= roi <= size):
        raise ConfigError(f"phantom roi must be 0 (whole slice) or an integer from 16 to size={size}, got {roi!r}",
                          "e.g. roi=64 for 64 x 64 lesion-centred regions of a 128 x 128 slice")
    return names


def _place(les: Lesion, liver: np.ndarray, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> None:
    """Choose a lesion centre inside the liver, far enough from its edge for the lesion to fit."""
    size = liver.shape[0]
    dist = ndimage.distance_transform_edt(liver) * (2.0 / size)  # normalised units
    ok = np.flatnonzero(dist.ravel() >= les.radius * 1.05)
    if ok.size == 0:  # lesion larger than the liver allows: shrink it to the deepest point
        i = int(np.argmax(dist))
        les.radius = float(max(dist.ravel()[i] * 0.95, 2.0 / size))
    else:
        i = int(ok[rng.integers(ok.size)])
    les.centre = (float(x.ravel()[i]), float(y.ravel()[i]))


def _roi_centre(lesions: list[Lesion], liver: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Pixel (row, col) the regions of interest are centred on: the main lesion, or for a lesion-free
    patient a random liver point at least 4 px inside the liver (the deepest point if none is)."""
    if lesions:
        cx, cy = lesions[0].centre
        size = liver.shape[0]
        return (cy + 1.0) / 2.0 * size - 0.5, (cx + 1.0) / 2.0 * size - 0.5
    dist = ndimage.distance_transform_edt(liver)
    ok = np.flatnonzero(dist.ravel() >= 4.0)
    i = int(ok[rng.integers(ok.size)]) if ok.size else int(np.argmax(dist))
    return divmod(i, liver.shape[1])


def render_patient(kind: str, n_slices: int, rng: np.random.Generator, size: int = 128,
                   roi: int = 0) -> list[np.ndarray]:
    """Draw one patient with ``kind`` ("normal" = no lesion) and render ``n_slices`` nearby cuts (HU).

    All randomness comes from ``rng``: anatomy, lesion, cut positions, blur and noise. With ``roi`` > 0
    each cut is cropped to a ``roi`` x ``roi`` region centred on the main lesion (jittered by up to
    ``roi / 8`` px per slice), or on a random liver point for a lesion-free patient.
    """
    x, y = grid(size)
    an = draw_anatomy(rng)
    scale = size / 128.0
    blur = rng.uniform(*BLUR_PX) * scale
    noise_sd = rng.uniform(*NOISE_HU)
    lesions = [] if kind == NORMAL else draw_lesions(rng, kind, an.hu["liver"], an.hu["aorta"])
    z0 = rng.uniform(-0.5, 0.5)
    dz = rng.uniform(0.1, 0.25)
    # lesion cuts: spread around its centre, never so far off that it vanishes
    cut0 = rng.uniform(-0.5, 0.5)
    dcut = rng.uniform(0.15, 0.35) * rng.choice([-1.0, 1.0])
    out = []
    centre = (0.0, 0.0)
    for k in range(n_slices):
        img, liver = render_anatomy(an, x, y, z0 + k * dz)
        if k == 0:
            for les in lesions:
                _place(les, liver, x, y, rng)
            if roi:
                centre = _roi_centre(lesions, liver, rng)
        for j, les in enumerate(lesions):
            cut = float(np.clip(cut0 + k * dcut + 0.3 * j, -0.7, 0.7))
            render_lesion(img, liver, x, y, les, cut)
        img = ndimage.gaussian_filter(img, blur, mode="nearest")
        noise = ndimage.gaussian_filter(rng.standard_normal((size, size)).astype(np.float32),
                                        NOISE_CORR_PX * scale, mode="wrap")
        noise *= noise_sd / max(float(noise.std()), 1e-6)
        img = (img + noise).astype(np.float32)
        if roi:
            jitter = rng.uniform(-roi / 8.0, roi / 8.0, size=2)
            img = crop_window(img, (centre[0] + jitter[0], centre[1] + jitter[1]), roi)
        out.append(img)
    return out


def make_phantom(
    n_per_class: int = 40,
    seed: int = 0,
    classes: Sequence[str] = LESION_TYPES,
    include_normal: bool = False,
    size: int = 128,
    slices_per_patient: int = 2,
    roi: int = 0,
) -> LoadedData:
    """Generate labelled axial abdominal CT slices (HU) with focal liver lesions.

    Args:
        n_per_class: slices per class (exactly this many for every class).
        seed: seed of ``np.random.default_rng``; the same seed gives the same data.
        classes: lesion classes, any of ``cyst``, ``metastasis``, ``hemangioma``, ``normal``.
        include_normal: append the lesion-free class ``normal`` (last label) if not already listed.
        size: image side in pixels (full axial slice, ``size`` x ``size``).
        slices_per_patient: nearby slices per patient (same lesion, slightly different cut); the last
            patient of a class contributes fewer if ``n_per_class`` is not a multiple.
        roi: 0 (default) for whole slices; else the side of a lesion-centred region of interest cropped
            from each ``size`` x ``size`` slice, as the 64 x 64 lesion ROIs of Frid-Adar et al. 2018
            (lesion-free slices: centred on a random liver point). E.g. ``roi=64`` with ``size=128``.

    Returns:
        :class:`~medgan.data.types.LoadedData` with one item per slice; patients are
        ``phantom-p0001`` ...; one disease class per patient, patients in random order.

    Raises:
        ConfigError: bad ``n_per_class``, unknown or repeated class, bad ``size``/``slices_per_patient``.
    """
    names = _check_args(n_per_class, classes, include_normal, size, slices_per_patient, roi)
    side = int(roi) or int(size)
    rng = np.random.default_rng(seed)
    per_class = -(-int(n_per_class) // int(slices_per_patient))
    # (label, n_slices) per patient, then a random patient order so ids say nothing about the class
    plan = []
    for label in range(len(names)):
        left = int(n_per_class)
        for _ in range(per_class):
            plan.append((label, min(left, int(slices_per_patient))))
            left -= int(slices_per_patient)
    order = rng.permutation(len(plan))
    children = rng.spawn(len(plan))
    items = []
    for p, j in enumerate(order):
        label, n = plan[j]
        slices = render_patient(names[label], n, children[p], int(size), int(roi))
        for img in slices:
            items.append({
                "image": img,
                "label": label,
                "patient": f"phantom-p{p + 1:04d}",
                "source": f"phantom:seed={seed}:{len(items)}",
                "orig_size": (side, side),
                "format": "phantom",
                "mode": "float32",
                "units": "HU",
            })
    info = {"generator": "phantom", "seed": seed, "n_per_class": int(n_per_class), "size": int(size),
            "slices_per_patient": int(slices_per_patient), "roi": int(roi), "n_patients": len(plan)}
    return LoadedData(items, names, spec=f"phantom:n={n_per_class}:seed={seed}" + (f":roi={roi}" if roi else ""), info=info)

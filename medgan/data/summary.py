"""Describe a dataset: ``summarize`` (numbers), ``format_summary`` (text), ``write_preview`` (image grid)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from medgan.data.prepare import prepare_tensors
from medgan.data.types import LoadedData
from medgan.data.windows import IntensityWindow
from medgan.utils.figures import new_figure, save_png

__all__ = ["summarize", "patient_groups", "format_summary", "write_preview", "LARGE_PATIENT_SHARE"]

#: ``medgan data`` warns when one patient holds at least this share of a class's images.
LARGE_PATIENT_SHARE = 0.2


def summarize(data: LoadedData) -> dict[str, Any]:
    """Items, classes with counts (items and patients), patients, size range, intensity range, units, formats."""
    labels = data.labels
    patients = data.patients
    heights = np.asarray([it["orig_size"][0] for it in data.items])
    widths = np.asarray([it["orig_size"][1] for it in data.items])
    lows = np.asarray([float(it["image"].min()) for it in data.items])
    highs = np.asarray([float(it["image"].max()) for it in data.items])
    classes = {}
    for c, name in enumerate(data.class_names):
        mask = labels == c
        classes[name] = {"items": int(mask.sum()), "patients": int(len(set(patients[mask])))}
    straddling = sum(1 for p in set(patients) if len(set(labels[patients == p])) > 1)
    return {
        "spec": data.spec,
        "items": len(data),
        "classes": classes,
        "patients": int(len(set(patients))),
        "patients_with_several_classes": int(straddling),
        "patient_groups": patient_groups(data),
        "height_range": [int(heights.min()), int(heights.max())],
        "width_range": [int(widths.min()), int(widths.max())],
        "median_size": [float(np.median(heights)), float(np.median(widths))],
        "intensity_range": [float(lows.min()), float(highs.max())],
        "units": data.units,
        "formats": dict(Counter(str(it["format"]) for it in data.items)),
        "modes": dict(Counter(str(it["mode"]) for it in data.items)),
        "info": {k: v for k, v in data.info.items() if isinstance(v, (str, int, float, bool))},
    }


def patient_groups(data: LoadedData, top: int = 3) -> dict[str, dict[str, Any]]:
    """Per class: its ``top`` largest patient groups (``patient``, ``items``, ``share`` of the class) and
    ``warning``, a sentence when the largest holds ``LARGE_PATIENT_SHARE`` or more of the class and stands out
    (the class's only patient, or at least twice an even share, or twice the next largest patient), else None:
    5 patients of 2 slices each hold 20 % each and get no warning."""
    labels, patients = data.labels, data.patients
    out: dict[str, dict[str, Any]] = {}
    for c, name in enumerate(data.class_names):
        counts = Counter(patients[labels == c].tolist())
        total = max(1, sum(counts.values()))
        largest = [{"patient": p, "items": int(n), "share": n / total} for p, n in counts.most_common(top)]
        warning = None
        g = largest[0] if largest else None
        if g is not None and g["share"] >= LARGE_PATIENT_SHARE and _stands_out(g, largest, len(counts)):
            warning = (f"one patient holds {100 * g['share']:.0f} % of class {name} ({g['patient']}: {g['items']} of "
                       f"{total} images, {len(counts)} patients in the class): patient-grouped folds cannot balance "
                       "it; if these are slices of several people, derive patient ids with patient_regex or a "
                       "patients.csv (docs/data.md)")
        out[name] = {"largest": largest, "warning": warning}
    return out


def _stands_out(g: dict[str, Any], largest: list[dict[str, Any]], n_patients: int) -> bool:
    second = largest[1]["items"] if len(largest) > 1 else 0
    return n_patients == 1 or g["share"] >= 2.0 / n_patients or g["items"] >= 2 * second


def _group_lines(summary: dict[str, Any]) -> list[str]:
    """The largest patient groups per class (where a patient has more than one image) and the warnings."""
    lines, warnings = [], []
    for name, g in (summary.get("patient_groups") or {}).items():
        if g["largest"] and g["largest"][0]["items"] > 1:
            lines.append(f"  {name:<20} largest patients: " + ", ".join(
                f"{x['patient']} {x['items']} ({100 * x['share']:.0f} %)" for x in g["largest"]))
        if g.get("warning"):
            warnings.append(f"warning:     {g['warning']}")
    return lines + warnings


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable text of :func:`summarize`'s dict."""
    s = summary
    lines = [
        f"data:        {s['spec']}",
        f"items:       {s['items']} in {len(s['classes'])} classes, {s['patients']} patients",
    ]
    for name, c in s["classes"].items():
        lines.append(f"  {name:<20} {c['items']:>6} items {c['patients']:>6} patients")
    if s.get("info", {}).get("patients_from"):
        lines.append(f"patients:    from {s['info']['patients_from']}")
    lines += _group_lines(s)
    if s.get("patients_with_several_classes"):
        lines.append(f"note:        {s['patients_with_several_classes']} patients have slices of several classes")
    if s.get("positive_class"):
        lines.append(f"positive:    {s['positive_class']['reason']}")
    (h0, h1), (w0, w1) = s["height_range"], s["width_range"]
    lines += [
        f"image size:  height {h0}..{h1}, width {w0}..{w1} (median {s['median_size'][0]:g} x {s['median_size'][1]:g})",
        f"intensity:   {s['intensity_range'][0]:g} .. {s['intensity_range'][1]:g} {s['units']}",
        "formats:     " + ", ".join(f"{k} {v}" for k, v in s["formats"].items()),
        "modes:       " + ", ".join(f"{k} {v}" for k, v in s["modes"].items()),
    ]
    for key, value in s.get("info", {}).items():
        if key in ("patients", "orientation", "loader"):
            lines.append(f"{key + ':':<12} {value}")
    return "\n".join(lines)


def write_preview(data: LoadedData, path: str | Path, per_class: int = 8, window: IntensityWindow | str | None = None,
                  image_size: int = 128) -> Path:
    """Write a PNG grid: one row per class, up to ``per_class`` examples (first items), window applied."""
    labels = data.labels
    picks = [np.flatnonzero(labels == c)[:per_class] for c in range(len(data.class_names))]
    chosen = [int(i) for p in picks for i in p]
    prepared = prepare_tensors(data.subset(chosen), image_size=image_size, window=window)
    images = prepared.images.as_tensor()[:, 0].numpy() if hasattr(prepared.images, "as_tensor") else np.asarray(prepared.images[:, 0])
    rows, cols = len(data.class_names), max(1, per_class)
    fig, axes = new_figure(rows, cols, figsize=(1.3 * cols + 1.2, 1.3 * rows), squeeze=False)
    k = 0
    for r, name in enumerate(data.class_names):
        for c in range(cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(picks[r]):
                ax.imshow(images[k], cmap="gray", vmin=-1, vmax=1)
                k += 1
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center")
    w = prepared.window
    fig.suptitle(f"{data.spec}  window: {w.name} ({w.low:g}..{w.high:g} {w.units})", fontsize=9)
    fig.tight_layout()
    return save_png(fig, path, dpi=100)

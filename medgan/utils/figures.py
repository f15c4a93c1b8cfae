"""Figures without pyplot: a matplotlib :class:`~matplotlib.figure.Figure` saved atomically as PNG.

PNGs are written with a 256-colour adaptive palette (Pillow, matplotlib's own image library): plots and
grey-scale sample grids look the same and take about a third of the bytes of 24-bit PNGs.

Library code never touches pyplot's global state or switches the caller's backend (a notebook keeps
its own); a ``Figure`` made directly renders with Agg when saved and is freed like any object.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure
from PIL import Image

from medgan.utils.atomic import atomic_path

__all__ = ["colormaps", "new_figure", "save_png"]


def new_figure(nrows: int = 1, ncols: int = 1, figsize: tuple[float, float] | None = None,
               **subplot_kw: Any) -> tuple[Figure, Any]:
    """``(figure, axes)`` like ``pyplot.subplots`` (same arguments), without pyplot."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols, **subplot_kw)


def save_png(fig: Figure, path: str | Path, dpi: int = 100, **savefig_kw: Any) -> Path:
    """Write ``fig`` to ``path`` as PNG atomically (a reader never sees half a file); returns the path."""
    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, **savefig_kw)
    buffer.seek(0)
    with Image.open(buffer) as rendered:
        image = rendered.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    with atomic_path(path) as tmp:
        image.save(tmp, format="PNG", optimize=True)
    return path

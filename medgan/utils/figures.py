"""Figures without pyplot: a matplotlib :class:`~matplotlib.figure.Figure` saved atomically as PNG.

Library code never touches pyplot's global state or switches the caller's backend (a notebook keeps
its own); a ``Figure`` made directly renders with Agg when saved and is freed like any object.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from matplotlib import colormaps
from matplotlib.figure import Figure

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=dpi, **savefig_kw)
    return path

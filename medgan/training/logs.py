"""Run-directory outputs a person watches: ``log.csv`` and fixed-noise sample grids."""
from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from medgan.utils import atomic_path, atomic_write_text


class CsvLog:
    """Append-only metrics CSV with a fixed header. On resume, rows after ``resume_step`` are dropped
    (they belong to the part of the run that the resumed checkpoint does not contain)."""

    FIELDS = ("step", "d_loss", "g_loss", "d_real", "d_fake", "img_per_s", "elapsed_s", "condition_strength")

    def __init__(self, path: str | os.PathLike, resume_step: int | None = None) -> None:
        self.path = Path(path)
        rows: list[dict[str, str]] = []
        if resume_step is not None and self.path.exists():
            with open(self.path, newline="") as fh:
                rows = [r for r in csv.DictReader(fh) if r.get("step", "").isdigit() and int(r["step"]) <= resume_step]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=self.FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.path, buf.getvalue())

    def append(self, row: dict[str, Any]) -> None:
        with open(self.path, "a", newline="") as fh:
            csv.DictWriter(fh, fieldnames=self.FIELDS, extrasaction="ignore", lineterminator="\n").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})


def image_grid(images: torch.Tensor, nrow: int, pad: int = 2) -> np.ndarray:
    """(N, 1, S, S) in [-1, 1] -> uint8 (H, W) grid with ``nrow`` images per row."""
    x = ((images.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    n, s = x.shape[0], x.shape[-1]
    rows = (n + nrow - 1) // nrow
    grid = np.zeros((rows * (s + pad) + pad, nrow * (s + pad) + pad), dtype=np.uint8)
    for i in range(n):
        r, c = divmod(i, nrow)
        grid[pad + r * (s + pad): pad + r * (s + pad) + s, pad + c * (s + pad): pad + c * (s + pad) + s] = x[i]
    return grid


def save_grid(path: str | os.PathLike, images: torch.Tensor, nrow: int) -> Path:
    """Write a PNG grid of ``images`` atomically (one row per class when laid out class by class)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        Image.fromarray(image_grid(images, nrow)).save(tmp, format="PNG")
    return path

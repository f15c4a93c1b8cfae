"""Fixtures for the data-layer tests: tiny files written under tmp_path."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from medgan_data_fixtures import pattern, write_png


@pytest.fixture
def png_folder(tmp_path: Path) -> Path:
    """root/{cyst,normal}/*.png: 3 images each, mixed L/RGB/RGBA and sizes, plus an ignored labels.csv."""
    root = tmp_path / "pngs"
    modes = ["L", "RGB", "RGBA"]
    for c, cls in enumerate(["normal", "cyst"]):
        for i in range(3):
            write_png(root / cls / f"{cls}{i}.png", pattern(20 + 4 * i, 30 - 3 * i, seed=10 * c + i).astype(np.uint8), modes[i])
    (root / "labels.csv").write_text("id,label\nx,1\n")
    return root

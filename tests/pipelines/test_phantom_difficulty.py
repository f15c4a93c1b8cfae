"""pipelines/phantom_difficulty.py writes its example figures (whole slices and lesion ROIs)."""
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.mark.parametrize("roi", [0, 64])
def test_example_figure_is_written(tmp_path: Path, roi: int, load_pipeline) -> None:
    out = tmp_path / "examples.png"
    assert load_pipeline("phantom_difficulty").main(["--no-train", "--roi", str(roi), "--figure", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 10  # a real picture, not a blank canvas

"""pipelines/phantom_difficulty.py writes its example figures (whole slices and lesion ROIs)."""
import importlib.util
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


def _script():
    spec = importlib.util.spec_from_file_location("phantom_difficulty", ROOT / "pipelines" / "phantom_difficulty.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("roi", [0, 64])
def test_example_figure_is_written(tmp_path: Path, roi: int) -> None:
    out = tmp_path / "examples.png"
    assert _script().main(["--no-train", "--roi", str(roi), "--figure", str(out)]) == 0
    img = np.asarray(Image.open(out))
    assert img.ndim == 3 and img.shape[0] > 100 and img.std() > 10  # a real picture, not a blank canvas

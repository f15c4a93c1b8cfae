"""Bad data inputs (issue 18): each is one DataError/ConfigError naming the file, never a traceback or wrong labels."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from medgan.cli import main
from medgan.data import load_data, readers
from medgan.errors import DataError
from medgan_data_fixtures import pattern, write_dicom, write_png


def test_npz_with_object_array_is_data_error(tmp_path):
    path = tmp_path / "bad.npz"
    images = np.empty(2, dtype=object)
    images[:] = [np.zeros((4, 4)), np.zeros((5, 5))]
    np.savez(path, train_images=images, train_labels=np.array([0, 1]))
    with pytest.raises(DataError, match="train_images is an object array") as exc:
        load_data(str(path))
    assert str(path) in exc.value.message and exc.value.hint


def test_npz_object_array_cli_exit_2(tmp_path, capsys):
    path = tmp_path / "bad.npz"
    np.savez(path, train_images=np.array([{"a": 1}], dtype=object), train_labels=np.array([0]))
    assert main(["data", "--data", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "object array" in err and "fix:" in err and "Traceback" not in err


def _datalist(root: Path, entries: list[dict]) -> Path:
    for e in entries:
        write_png(root / e["image"], pattern(12, 12, seed=len(e["image"])).astype(np.uint8))
    path = root / "datalist.json"
    path.write_text(json.dumps({"training": entries}))
    return path


def test_datalist_labels_that_name_sibling_paths_are_read_as_written(tmp_path):
    entries = [{"image": "normal/a.png", "label": "normal", "patient": "normal"},
               {"image": "normal/b.png", "label": "normal", "patient": "p2"},
               {"image": "lesion/c.png", "label": "..", "patient": "p3"},
               {"image": "lesion/d.png", "label": "..", "patient": "p4"}]
    data = load_data(str(_datalist(tmp_path, entries)))
    assert data.class_names == ["..", "normal"]  # not ['/tmp/...', '/tmp/.../normal']
    assert sorted(map(str, data.patients)) == ["normal", "p2", "p3", "p4"]
    assert [data.class_names[int(i)] for i in data.labels] == ["normal", "normal", "..", ".."]


def test_truncated_dicom_says_cut_short(tmp_path):
    full = write_dicom(tmp_path / "full.dcm", np.arange(32 * 32, dtype=np.int16).reshape(32, 32))
    blob = full.read_bytes()
    for cut in (len(blob) - 100, 400):
        path = tmp_path / f"cut{cut}.dcm"
        path.write_bytes(blob[:cut])
        with pytest.raises(DataError, match="cut short") as exc:
            readers.read_dicom(path)
        assert str(path) in exc.value.message and "pylibjpeg" not in str(exc.value)


def test_image_over_the_pixel_limit_is_data_error(tmp_path, monkeypatch):
    path = write_png(tmp_path / "big.png", np.zeros((40, 50), dtype=np.uint8))
    monkeypatch.setattr(readers, "MAX_PIXELS", 1000)
    with pytest.raises(DataError, match=r"50 x 40") as exc:
        readers.read_image(path)
    assert str(path) in exc.value.message and "megapixels" in exc.value.message and exc.value.hint


def test_pil_decompression_bomb_is_data_error(tmp_path, monkeypatch):
    from PIL import Image

    path = write_png(tmp_path / "bomb.png", np.zeros((40, 50), dtype=np.uint8))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # PIL raises above 2x this, before medgan's check
    with pytest.raises(DataError, match="too large"):
        readers.read_image(path)


@pytest.mark.parametrize("where", ["below_file", "is_dir"])
def test_data_preview_path_that_cannot_be_written_exit_2(png_folder, tmp_path, capsys, where):
    blocker = tmp_path / "afile"
    blocker.write_text("x")
    preview = blocker / "p.png" if where == "below_file" else tmp_path
    assert main(["data", "--data", str(png_folder), "--preview", str(preview)]) == 2
    err = capsys.readouterr().err
    assert "--preview" in err and str(preview) in err and "fix:" in err and "Traceback" not in err
    assert blocker.read_text() == "x"


def test_data_per_class_zero_exit_2(png_folder, tmp_path, capsys):
    preview = tmp_path / "p.png"
    assert main(["data", "--data", str(png_folder), "--preview", str(preview), "--per-class", "0"]) == 2
    assert "--per-class must be >= 1" in capsys.readouterr().err and not preview.exists()


def test_csv_that_is_not_utf8_is_data_error(tmp_path):
    path = tmp_path / "slices.csv"
    path.write_bytes(b"path,slice,label\n\xff\xfe.nii.gz,1,a\n")
    with pytest.raises(DataError, match="cannot read the CSV"):
        load_data(str(path))


@pytest.mark.parametrize("entry", [{"image": None, "label": 0}, {"image": ["a.png"], "label": 0},
                                   {"image": "a.png", "label": None}])
def test_datalist_entry_of_the_wrong_type_is_data_error(tmp_path, entry):
    write_png(tmp_path / "a.png", pattern(12, 12, seed=1).astype(np.uint8))
    path = tmp_path / "datalist.json"
    path.write_text(json.dumps({"training": [entry]}))
    with pytest.raises(DataError, match="entry 0"):
        load_data(str(path))


def test_npz_with_no_images_is_data_error(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path, train_images=np.zeros((0, 4, 4), np.uint8), train_labels=np.zeros((0,), np.int64))
    with pytest.raises(DataError):
        load_data(str(path))


@pytest.mark.parametrize("window", ["nan,80", "40,inf"])
def test_window_that_is_not_finite_exit_2(capsys, window):
    assert main(["data", "--data", "phantom:n_per_class=1,size=32", "--window", window]) == 2
    assert "finite" in capsys.readouterr().err

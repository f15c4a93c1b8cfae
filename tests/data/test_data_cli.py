"""``medgan data``: summary text, preview file, and exit status 2 without traceback on bad input."""
from __future__ import annotations

import subprocess
import sys

import pytest

from medgan.cli import main


def test_data_summary_and_preview(png_folder, tmp_path, capsys):
    out_png = tmp_path / "out" / "preview.png"
    assert main(["data", "--data", str(png_folder), "--preview", str(out_png), "--per-class", "2"]) == 0
    text = capsys.readouterr().out
    assert "6 in 2 classes, 6 patients" in text and "uint8" in text and "RGBA 2" in text
    assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_json_summary(png_folder, capsys):
    import json

    assert main(["data", "--data", str(png_folder), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["items"] == 6 and summary["classes"]["cyst"] == {"items": 3, "patients": 3}


def test_bad_data_exit_2_no_traceback(tmp_path, capsys):
    assert main(["data", "--data", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "fix:" in err and "Traceback" not in err


def test_empty_class_folder_exit_2(png_folder, capsys):
    (png_folder / "x").mkdir()
    assert main(["data", "--data", str(png_folder)]) == 2  # class folder without images
    assert "'x' holds no images" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_process_exit_status(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import sys; from medgan.cli import main; sys.exit(main())", "data", "--data", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "no class sub-folders" in proc.stderr and "Traceback" not in proc.stderr


def test_bad_window_preset_exit_2(tmp_path, capsys):
    assert main(["data", "--data", "phantom:n_per_class=1,size=32", "--window", "nonsense"]) == 2
    assert "unknown window 'nonsense'" in capsys.readouterr().err

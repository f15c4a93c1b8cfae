"""docs/monai.md: the Python example runs as written (against a tiny generator export)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "monai.md"


@pytest.mark.slow
def test_monai_doc_example_runs(tmp_path, monkeypatch, export_dir, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert len(blocks) == 1
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "phantom-gan").symlink_to(export_dir, target_is_directory=True)
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], str(DOC), "exec"), {"__name__": "docs_example"})
    out = capsys.readouterr().out
    assert "torch.Size([8, 1, 16, 16])" in out and "12 real + 12 synthetic" in out

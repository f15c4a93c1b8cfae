"""The README's Python quick start runs as written, and the README opens with the two commands."""
import os
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_has_the_two_commands_first() -> None:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    assert "medgan benchmark --data phantom --quick" in blocks[0]
    assert "python -m pytest" in blocks[1]
    ci = (README.parent / ".ci" / "run").read_text()
    assert blocks[1].strip() in ci


@pytest.mark.slow
def test_readme_python_quick_start_runs(tmp_path: Path, capsys) -> None:
    code = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)[0]
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "torch.Size([4, 1, 64, 64])" in out
    assert (tmp_path / "runs" / "quickstart" / "generator.json").is_file()

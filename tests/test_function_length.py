"""No function or method over 80 lines anywhere in medgan/."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "medgan"
LIMIT = 80


def long_functions(root: Path = PACKAGE, limit: int = LIMIT) -> list[tuple[str, str, int]]:
    """``(file, function, lines)`` for every function or method longer than ``limit`` lines under ``root``."""
    out = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > limit:
                    out.append((str(path.relative_to(root.parent)), node.name, n))
    return out


def test_no_long_function_in_medgan():
    assert long_functions() == []


if __name__ == "__main__":  # python tests/test_function_length.py: every long function in medgan/
    for file, name, n in long_functions():
        print(f"{n:4d}  {file}  {name}")

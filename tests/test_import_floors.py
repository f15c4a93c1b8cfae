"""The import floors of CONTRIBUTING.md hold in the code: no up-edge, no circle, imports at module top."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "medgan"
#: lowest first; a module may import only its own floor and the floors below it.
FLOORS = [("errors", "utils", "_version"), ("data",), ("models",), ("training",), ("synthesis",),
          ("transforms",), ("evaluation",), ("benchmark",), ("cli",)]
RANK = {name: i for i, floor in enumerate(FLOORS) for name in floor}


def _modules() -> dict[str, ast.Module]:
    out = {}
    for f in sorted(PACKAGE.rglob("*.py")):
        parts = list(f.relative_to(PACKAGE.parent).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(f.read_text())
    return out


def _medgan_imports(tree: ast.Module) -> list[tuple[ast.stmt, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").startswith("medgan"):
            found.append((node, node.module))
        elif isinstance(node, ast.Import):
            found += [(node, a.name) for a in node.names if a.name.startswith("medgan")]
    return found


def _floor(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_no_module_imports_a_higher_floor():
    bad = []
    for name, tree in _modules().items():
        me = _floor(name)
        if me in ("", "__main__") or me not in RANK:
            continue
        for _, target in _medgan_imports(tree):
            other = _floor(target)
            if other == "" or RANK.get(other, -1) > RANK[me]:
                bad.append(f"{name} imports {target}")
    assert not bad, bad


def test_medgan_imports_sit_at_module_top():
    inner = [f"{name}: {target}" for name, tree in _modules().items()
             for node, target in _medgan_imports(tree) if node not in tree.body]
    assert not inner, inner


def test_no_import_circle():
    modules = _modules()
    graph = {name: {t for _, t in _medgan_imports(tree) if t in modules} - {name} for name, tree in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in graph[node]:
            if nxt.startswith(node + "."):  # a package importing its own submodules is not a circle
                continue
            assert state.get(nxt) != 1, " -> ".join(path + [nxt])
            if nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in graph:
        if name not in state:
            visit(name, [name])


#: optional third-party packages a function may import lazily (heavy, and not needed by most runs).
LAZY_OPTIONAL = {"umap", "distributed", "dask"}  # dask: part of the optional cluster extra


def test_no_import_inside_a_function_except_optional_packages():
    inner = []
    for name, tree in _modules().items():
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                if isinstance(node, ast.Import):
                    inner += [f"{name}.{fn.name}: {a.name}" for a in node.names
                              if a.name.split(".")[0] not in LAZY_OPTIONAL]
                elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] not in LAZY_OPTIONAL:
                    inner.append(f"{name}.{fn.name}: from {node.module}")
    assert not inner, inner

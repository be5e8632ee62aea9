"""The shape of the package: layers kept, no cycles, no private imports, no assert, short modules."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "evaluation"
MAX_LINES = 400  # a module longer than this does more than one thing


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def test_import_contracts_are_kept():
    # the layer contracts in pyproject.toml ([tool.importlinter])
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency; `make test` installs it"
    run = subprocess.run([exe], capture_output=True, text=True, cwd=PACKAGE.parent)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]


def test_no_import_cycles_between_modules():
    graph = grimp.build_graph("evaluation")
    modules = sorted(m for m in graph.modules if m != "evaluation")
    edges = {m: sorted(graph.find_modules_directly_imported_by(m) - {"evaluation"}) for m in modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, []):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for m in modules:
        if m not in index:
            visit(m)
    assert cycles == []


@pytest.mark.parametrize("path", package_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_module_hygiene(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    private = [f"line {node.lineno}: {node.module}.{alias.name}"
               for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
               and (node.module or "").startswith("evaluation")
               for alias in node.names if alias.name.startswith("_")
               and not (path.name == "__init__.py" and path.parent == PACKAGE)]
    assert private == [], "another module's private names are imported"
    asserts = [node.lineno for node in ast.walk(tree) if isinstance(node, ast.Assert)]
    assert asserts == [], "library code validates with an exception that names the fix, not assert"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{lines} lines: split the module by what it does"


def test_every_subpackage_says_what_it_owns():
    for init in sorted(PACKAGE.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc) > 40, f"{init.relative_to(PACKAGE)}: no docstring saying what it owns"

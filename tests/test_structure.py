"""The layering and the size of functions, read from the source with ``ast``.

ARCHITECTURE §2: arrows point down only. ``tui/`` draws and never touches documents or
sockets; ``model/`` is pure; ``crdt/`` knows nothing of governance or the network; ``net/``
moves changes without interpreting them. Only the composition root (``home.py``) wires
``net/`` and ``model/`` together.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
from radon.complexity import cc_visit

SRC = Path(__file__).resolve().parents[1] / "src" / "assemblymesh"
FORBIDDEN = {
    "tui": {"crdt", "net"},
    "model": {"net", "tui"},
    "crdt": {"model", "net", "tui"},
    "net": {"model", "tui"},
}
ROOT = "home.py"
MAX_LINES = 60
MAX_COMPLEXITY = 15
# Written out by hand on purpose: the demo's story is a script, not logic.
EXEMPT = {("tui/demo.py", "write_story")}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SRC.rglob("*.py")):
        yield path.relative_to(SRC).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def imported_packages(tree: ast.Module) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            parts = name.split(".")
            if parts[0] == "assemblymesh" and len(parts) > 1:
                found.add(parts[1])
    return found


@pytest.mark.parametrize("rel,tree", list(modules()), ids=lambda v: v if isinstance(v, str) else "")
def test_imports_follow_the_layers(rel: str, tree: ast.Module) -> None:
    package = rel.split("/")[0] if "/" in rel else ""
    used = imported_packages(tree)
    assert not used & FORBIDDEN.get(package, set()), f"{rel} imports {used & FORBIDDEN[package]}"
    if rel != ROOT:
        assert not {"net", "model"} <= used, f"{rel} wires net/ and model/: only {ROOT} does"


def test_no_function_is_too_long_or_too_branched() -> None:
    problems = []
    for rel, tree in modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_LINES and (rel, node.name) not in EXEMPT:
                    problems.append(f"{rel}:{node.lineno} {node.name}: {length} lines")
        source = (SRC / rel).read_text(encoding="utf-8")
        for block in cc_visit(source):
            if block.complexity > MAX_COMPLEXITY and (rel, block.name) not in EXEMPT:
                problems.append(f"{rel}:{block.lineno} {block.name}: complexity {block.complexity}")
    assert not problems, "\n".join(problems)

"""Nothing outside a platform module names a stream type (issue 12: stream types as data).

The engine, API, delivery, MCP and CLI read :mod:`herald.sources.catalog`; a type name as a
string literal there means a seam was bypassed. Docstrings and comments may mention them.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "herald"
LAYERS = ("engine", "api", "delivery", "mcp", "cli")
TYPE_NAMES = {"tweet", "follower", "mention"}
ALLOWED: set[tuple[str, int]] = set()
"""(file, line) of a compat alias table, were one needed; there is none today."""


def _docstrings(tree: ast.AST) -> set[int]:
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                ids.add(id(value))
    return ids


def type_name_literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    docstrings = _docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in TYPE_NAMES
        and id(node) not in docstrings
    ]


def test_no_type_name_literals_outside_platform_modules() -> None:
    found = [
        f"{path.relative_to(ROOT.parent)}:{line}: {value!r}"
        for layer in LAYERS
        for path in sorted((ROOT / layer).rglob("*.py"))
        for line, value in type_name_literals(path)
        if (str(path.relative_to(ROOT.parent)), line) not in ALLOWED
    ]
    assert not found, "type names outside platform modules:\n" + "\n".join(found)


def test_the_check_finds_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('"""Docs may say "tweet"."""\nkind = "follower"\nother = "tweets"\n')
    assert type_name_literals(sample) == [(2, "follower")]

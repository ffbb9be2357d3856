"""herald's own import graph, read from the source with ``ast`` (nothing is imported)."""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

HERALD = Path(__file__).resolve().parents[1] / "herald"


def module_name(path: Path) -> str:
    parts = path.relative_to(HERALD.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in HERALD.rglob("*.py")}


def imports_of(path: Path, name: str) -> set[str]:
    """Every module ``path`` imports, at any depth in the file (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _herald_modules(names: Iterable[str], known: dict[str, Path]) -> Iterator[str]:
    for name in names:
        # A module imports its packages' __init__ too.
        parts = name.split(".")
        for i in range(1, len(parts) + 1):
            candidate = ".".join(parts[:i])
            if candidate in known:
                yield candidate


def reachable(start: Iterable[str]) -> dict[str, str]:
    """Every herald module imported, directly or not, from ``start``: name -> importer."""
    known = modules()
    seen: dict[str, str] = {}
    todo = [(s, "") for s in start]
    while todo:
        name, parent = todo.pop()
        if name in seen:
            continue
        seen[name] = parent
        path = known[name]
        todo.extend((m, name) for m in _herald_modules(imports_of(path, name), known))
    return seen


def chain(seen: dict[str, str], name: str) -> list[str]:
    """How ``name`` was reached, from a start module."""
    path = [name]
    while seen.get(path[-1]):
        path.append(seen[path[-1]])
    return path[::-1]

"""Key paths of JSON documents, and the ones a parser actually reads.

``tracked(doc)`` wraps a document so every key read through ``[]`` or ``.get`` is noted,
with the type of the value found. Paths are normalised so that they compare across
documents: list positions become ``[]`` and every timeline entry, wherever its instruction
put it, starts at ``<entry>``.
"""

from __future__ import annotations

import re
from typing import Any

ENTRY = re.compile(r"^.*?instructions\[\]\.(entries\[\]|entry)")
Reads = dict[str, set[str]]  # normalised path -> type names seen there


def normalise(path: str) -> str:
    return ENTRY.sub("<entry>", path)


def _type(value: Any) -> str:
    return "dict" if isinstance(value, dict) else type(value).__name__


class Tracked(dict[str, Any]):
    def __init__(self, data: dict[str, Any], path: str, reads: Reads) -> None:
        super().__init__(
            {k: _wrap(v, f"{path}.{k}" if path else k, reads) for k, v in data.items()}
        )
        self._path, self._reads = path, reads

    def _note(self, key: str) -> None:
        path = normalise(f"{self._path}.{key}" if self._path else key)
        self._reads.setdefault(path, set()).add(_type(dict.__getitem__(self, key)))

    def __getitem__(self, key: str) -> Any:
        value = super().__getitem__(key)
        self._note(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        if dict.__contains__(self, key):
            self._note(key)
        return super().get(key, default)


def _wrap(value: Any, path: str, reads: Reads) -> Any:
    if isinstance(value, dict):
        return Tracked(value, path, reads)
    if isinstance(value, list):
        return [_wrap(v, f"{path}[]", reads) for v in value]
    return value


def tracked(doc: dict[str, Any]) -> tuple[dict[str, Any], Reads]:
    reads: Reads = {}
    return Tracked(doc, "", reads), reads


def key_paths(doc: Any, path: str = "") -> Reads:
    """Every key path in ``doc`` with the types found there."""
    found: Reads = {}

    def walk(value: Any, at: str) -> None:
        if at:
            found.setdefault(normalise(at), set()).add(_type(value))
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{at}.{key}" if at else key)
        elif isinstance(value, list):
            for inner in value:
                walk(inner, f"{at}[]")

    walk(doc, path)
    return found

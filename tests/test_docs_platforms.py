"""docs/platforms/README.md lists every stream type of the catalog, with its aliases."""

from __future__ import annotations

import re
from pathlib import Path

from herald.sources.catalog import stream_types

INDEX = Path(__file__).resolve().parents[1] / "docs" / "platforms" / "README.md"


def rows() -> dict[str, list[str]]:
    """Type -> its row's cells, from the index's table."""
    found: dict[str, list[str]] = {}
    for line in INDEX.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| `") and cells:
            found[cells[0].strip("`")] = cells
    return found


def test_the_platform_index_lists_every_catalog_type() -> None:
    table = rows()
    assert set(table) == {t.name for t in stream_types()}, "docs/platforms/README.md"
    for spec in stream_types():
        cells = table[spec.name]
        assert re.findall(r"`([^`]+)`", cells[1]) == list(spec.aliases), spec.name
        assert cells[2] == f"`{spec.platform}`", spec.name
        for event in spec.events:
            assert event.value in cells[4], (spec.name, event.value)

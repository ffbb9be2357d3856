"""``herald.mcp`` never imports ``herald.api``: the API mounts MCP, so the other way is a
cycle. Shared pieces (the query model, the pull read) live in ``herald.delivery``."""

from __future__ import annotations

from tests.importgraph import chain, modules, reachable


def test_mcp_reaches_no_api_module() -> None:
    start = sorted(m for m in modules() if m.startswith("herald.mcp"))
    assert "herald.mcp.tools" in start and "herald.mcp.backend" in start
    seen = reachable(start)
    api = sorted(m for m in seen if m == "herald.api" or m.startswith("herald.api."))
    assert not api, f"herald.mcp imports the API: {' -> '.join(chain(seen, api[0]))}"


def test_the_graph_sees_lazy_and_relative_imports() -> None:
    """The check can fail: the API itself is seen importing what it imports."""
    seen = reachable(["herald.api.app"])
    assert "herald.api.events" in seen and "herald.mcp.http" in seen
    assert "herald.sources.catalog" in reachable(["herald.delivery.subscription"])  # lazy

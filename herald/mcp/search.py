"""``search_events``: full-text search over the archive, for agents ("what did people say
about the outage last week?").

In process (``/mcp``, admin callers only) it reads the archive directly; over REST
(``herald mcp``) it calls ``GET /api/search``. Both answer ``/api/search``'s JSON.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from pydantic import Field

from herald.archive import requests as archive_requests
from herald.mcp.backend import Backend, LocalBackend, RestBackend

Names = Annotated[list[str] | None, Field(description="Leave out for every one.")]
Time = Annotated[
    str | None,
    Field(description="ISO 8601 (2026-01-31 or 2026-01-31T09:00:00Z; UTC unless it says)."),
]

SEARCH_DOC = """Search every archived event, also those the live log no longer holds.

`query`: words (all must appear), "a quoted phrase", or prefix* ; leave it out to list by
the filters alone. Hits come newest first, each {event, highlight} where the highlight
marks each match as <mark>word</mark>. Pass the answer's `cursor` back for the next page
(null on the last one)."""


def add_search_tools(server: MCPServer[Any], backend: Backend) -> None:
    from herald.mcp.tools import READ_ONLY, _answer

    @server.tool(annotations=READ_ONLY, description=SEARCH_DOC)
    async def search_events(
        query: Annotated[str | None, Field(description="The words to find.")] = None,
        platforms: Names = None,
        types: Annotated[
            list[str] | None, Field(description="Event types, e.g. stream:post:new.")
        ] = None,
        streamIds: Names = None,
        since: Time = None,
        until: Time = None,
        limit: Annotated[int, Field(ge=1, le=200, description="Hits per page.")] = 20,
        cursor: Annotated[str | None, Field(description="From the previous page.")] = None,
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"limit": str(limit)}
        for name, value in (
            ("q", query),
            ("from", since),
            ("to", until),
            ("cursor", cursor),
            ("platform", ",".join(platforms or [])),
            ("type", ",".join(types or [])),
            ("streamId", ",".join(streamIds or [])),
        ):
            if value:
                params[name] = value
        if isinstance(backend, RestBackend):
            return await _answer(backend._call("GET", "/api/search", params=params))
        if not isinstance(backend, LocalBackend):
            raise TypeError("unknown MCP backend")
        herald = backend.herald
        return await _answer(archive_requests.search(herald.archive, params, None))

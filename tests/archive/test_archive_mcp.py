"""``search_events`` in process at ``/mcp`` and over REST (what ``herald mcp`` runs): the
same answers as ``/api/search``, and the same refusal text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from redis.asyncio import Redis

from herald.archive.records import record_of
from tests.archive.archive_support import body
from tests.mcp.conftest import McpServer, data, error_text, serve
from tests.mcp.test_mcp_alerts import Connect, over_http, over_rest
from tests.servers import herald_settings

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
async def server(
    external_redis: Redis, key_prefix: str, tmp_path: Path
) -> AsyncIterator[McpServer]:
    settings = herald_settings(
        key_prefix, archive_url=f"sqlite:///{tmp_path}/archive.db", archive_retention_days=0
    )
    async for running in serve(settings):
        assert running.herald.archive is not None
        await running.herald.archive.insert_many(
            [
                record_of(body(1, "the outage began at noon", stream="a")),
                record_of(body(2, "outage over, all green", stream="b", platform="bsky")),
                record_of(body(3, "unrelated chatter", stream="a")),
            ]
        )
        yield running


@pytest.mark.parametrize("connect", [over_http, over_rest], ids=["mcp-endpoint", "rest"])
async def test_search_events(server: McpServer, connect: Connect) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        rest = (await http.get("/api/search", params={"q": "outage"})).json()
    async with connect(server.url) as client:
        names = {tool.name for tool in (await client.list_tools()).tools}
        assert "search_events" in names
        found = data(await client.call_tool("search_events", {"query": "outage"}))
        assert found == rest
        assert [h["event"]["eventId"] for h in found["results"]] == ["item:2@b", "item:1@a"]
        assert "<mark>outage</mark>" in found["results"][0]["highlight"]
        only = data(
            await client.call_tool("search_events", {"query": "outage", "platforms": ["bsky"]})
        )
        assert [h["event"]["streamId"] for h in only["results"]] == ["b"]
        paged = data(await client.call_tool("search_events", {"streamIds": ["a"], "limit": 1}))
        assert paged["count"] == 1 and paged["cursor"]
        rest_page = data(
            await client.call_tool(
                "search_events", {"streamIds": ["a"], "limit": 1, "cursor": paged["cursor"]}
            )
        )
        assert rest_page["results"][0]["event"]["eventId"] == "item:1@a"
        refused = await client.call_tool("search_events", {"types": ["stream:nope"]})
        assert ": type: unknown event type" in error_text(refused)
        odd = data(await client.call_tool("search_events", {"query": "NEAR( \" ' OR"}))
        assert odd["count"] == 0

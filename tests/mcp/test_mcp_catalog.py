"""The MCP start tool describes every type of the catalog: its ``type`` enum and one line
per type (target, example, events) in its description, a registered platform included."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from mcp import Client

from herald.service import Herald
from herald.sources import catalog
from herald.sources.catalog import stream_types
from tests.mcp.conftest import McpServer, data, error_text
from tests.platforms import demo
from tests.servers import herald_settings, serve_herald


async def test_start_tool_derives_from_the_catalog(server: McpServer) -> None:
    async with Client(f"{server.url}/mcp") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        start = tools["x_stream_start"]
        assert start.input_schema["properties"]["type"]["enum"] == list(stream_types().names)
        description = start.description or ""
        for spec in stream_types():
            assert f"- {' / '.join(spec.names)} ({spec.platform})" in description
            assert spec.target.description in description
        bad = await client.call_tool("x_stream_start", {"type": "podcast", "username": "nasa"})
        assert "type: must be one of" in error_text(bad)


@pytest.fixture
async def demo_server(
    external_redis: object, key_prefix: str, tmp_path: Path
) -> AsyncIterator[str]:
    settings = herald_settings(key_prefix, secret_key="mcp-demo-secret", data_dir=str(tmp_path))
    with catalog.platform(demo):
        async with Herald(settings, worker=False) as herald, serve_herald(herald) as url:
            yield url


async def test_a_registered_platform_is_offered(demo_server: str) -> None:
    async with Client(f"{demo_server}/mcp") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        start = tools["x_stream_start"]
        assert "demo:thing" in start.input_schema["properties"]["type"]["enum"]
        assert "a box name: 1-20 lowercase letters (e.g. 'attic')" in (start.description or "")
        stream = data(
            await client.call_tool("x_stream_start", {"type": "demo:thing", "username": "attic"})
        )
        assert (stream["platform"], stream["target"]) == ("demo", "attic")

"""MCP over Streamable HTTP at /mcp, with the SDK's own client, on both protocol eras."""

from __future__ import annotations

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from tests.mcp.conftest import API_KEY, McpServer, data
from tests.mcp.mcp_flow import errors, lifecycle


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_lifecycle_over_http(server: McpServer, mode: str) -> None:
    async def post(username: str, text: str) -> str:
        return server.source.post(username, text).id

    async with Client(f"{server.url}/mcp", mode=mode) as client:
        await lifecycle(client, post, "nasa")
        await errors(client)


async def test_http_needs_the_api_key(secured: McpServer) -> None:
    url = f"{secured.url}/mcp"
    hello = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx.AsyncClient() as raw:
        refused = await raw.post(url, json=hello)
        assert refused.status_code == 401 and refused.headers["www-authenticate"].startswith(
            "Bearer"
        )
        assert refused.json()["detail"].startswith("missing token")
        wrong = await raw.post(url, json=hello, headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid token"
    with pytest.raises(Exception):  # noqa: B017 - the SDK wraps the 401 in its own errors
        async with Client(url) as client:
            await client.list_tools()

    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with httpx2.AsyncClient(headers=headers) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport) as client:
            assert data(await client.call_tool("x_stream_list", {}))["count"] == 0

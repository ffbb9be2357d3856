"""``herald mcp`` on stdio, spawned like an MCP client config would, driving a server over REST."""

from __future__ import annotations

import sys

from mcp import Client, StdioServerParameters

from tests.conftest import REPO_ROOT
from tests.mcp.conftest import API_KEY, McpServer, data, error_text
from tests.mcp.mcp_flow import errors, lifecycle
from tests.servers import free_port


def herald_mcp(*args: str, env: dict[str, str] | None = None) -> StdioServerParameters:
    """``python -m herald.cli mcp`` with this test's Python, run from the checkout."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "herald.cli", "mcp", *args],
        env=env,
        cwd=str(REPO_ROOT),
    )


async def test_lifecycle_over_stdio(server: McpServer) -> None:
    async def post(username: str, text: str) -> str:
        return server.source.post(username, text).id

    async with Client(herald_mcp("--url", server.url)) as client:
        await lifecycle(client, post, "esa")
        await errors(client)


async def test_stdio_passes_the_token_and_reports_a_down_server(secured: McpServer) -> None:
    async with Client(herald_mcp("--url", secured.url)) as client:
        refused = await client.call_tool("x_stream_list", {})
        assert "missing token" in error_text(refused)

    async with Client(herald_mcp("--url", secured.url, env={"HERALD_TOKEN": API_KEY})) as client:
        assert data(await client.call_tool("x_stream_list", {}))["count"] == 0

    nowhere = f"http://127.0.0.1:{free_port()}"
    async with Client(herald_mcp("--url", nowhere)) as client:
        down = await client.call_tool("x_stream_list", {})
        assert f"cannot reach herald at {nowhere}: connection refused" in error_text(down)

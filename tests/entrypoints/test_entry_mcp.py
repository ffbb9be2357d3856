"""The MCP write tools, in process at ``/mcp`` and over REST (``herald mcp``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from herald.mcp import RestBackend, build_mcp
from tests.entrypoints.support import API_KEY, CommandServer, token
from tests.mcp.conftest import data, error_text

pytestmark = pytest.mark.timeout(60)

TOOLS = {
    "post_tweet": {"text": "from an agent"},
    "delete_tweet": {"tweetId": "101"},
    "like_tweet": {"tweetId": "102"},
    "unlike_tweet": {"tweetId": "103"},
    "retweet": {"tweetId": "104"},
    "unretweet": {"tweetId": "105"},
}


@asynccontextmanager
async def over_http(server: CommandServer, _: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {API_KEY}"}
    async with (
        httpx2.AsyncClient(headers=headers) as http,
        Client(streamable_http_client(f"{server.url}/mcp", http_client=http)) as client,
    ):
        yield client


@asynccontextmanager
async def over_rest(server: CommandServer, kind: str) -> AsyncIterator[Client]:
    backend = RestBackend(server.url, token(kind))
    try:
        async with Client(build_mcp(backend)) as client:
            yield client
    finally:
        await backend.aclose()


Connect = Callable[[CommandServer, str], AbstractAsyncContextManager[Client]]


@pytest.mark.parametrize("connect", [over_http, over_rest], ids=["mcp-endpoint", "rest"])
async def test_every_write_tool_and_get_command(server: CommandServer, connect: Connect) -> None:
    async with connect(server, "writer") as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
        assert set(TOOLS) | {"get_command"} <= set(tools)
        assert tools["post_tweet"].input_schema["required"] == ["text"]
        assert "replyToTweetId" in tools["post_tweet"].input_schema["properties"]
        for name, args in TOOLS.items():
            answer = data(await client.call_tool(name, {**args, "commandId": f"mcp-{name}"}))
            assert answer["type"] == name and answer["state"] == "succeeded", answer
            again = data(await client.call_tool(name, {**args, "commandId": f"mcp-{name}"}))
            assert again == answer
            assert server.commands.executions[f"mcp-{name}"] == 1
        stored = data(await client.call_tool("get_command", {"commandId": "mcp-retweet"}))
        assert stored["result"]["tweetId"] == "104"
        reply = data(
            await client.call_tool(
                "post_tweet", {"text": "re", "replyToTweetId": "9", "accountId": "acc-2"}
            )
        )
        assert reply["data"] == {"text": "re", "reply_to_tweet_id": "9"}
        assert reply["accountId"] == "acc-2"
        unsure = data(await client.call_tool("like_tweet", {"tweetId": "uncertain-5"}))
        assert unsure["state"] == "uncertain"
        missing = await client.call_tool("get_command", {"commandId": "no-such"})
        assert "no-such" in error_text(missing)
        server.commands.writes = False
        off = await client.call_tool("post_tweet", {"text": "nope", "commandId": "off-1"})
        assert "HERALD_ENABLE_WRITES" in error_text(off)
        assert "off-1" not in server.commands.records


async def test_herald_mcp_with_a_token_that_may_not_write(server: CommandServer) -> None:
    for kind in ("read-only", "restricted"):
        async with over_rest(server, kind) as client:
            refused = await client.call_tool("like_tweet", {"tweetId": "1"})
            assert "commands" in error_text(refused), kind
    assert not server.commands.records


async def test_mcp_endpoint_refuses_non_admin_tokens(server: CommandServer) -> None:
    hello: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    async with httpx2.AsyncClient() as raw:
        for kind in ("writer", "read-only"):
            response = await raw.post(
                f"{server.url}/mcp", json=hello, headers={"Authorization": f"Bearer {token(kind)}"}
            )
            assert response.status_code == 403

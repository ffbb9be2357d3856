"""One query model: the same bad query gets the same error text on every transport
(Socket.IO, ``/ws``, SSE, ``GET /api/events/log``, MCP and ``herald tail``), and the
``platforms`` filter works on the push and the pull side alike."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import httpx
import orjson
import pytest
import socketio
import websockets
from mcp import Client

from herald.delivery.subscription import parse_query
from herald.errors import HeraldError
from herald.events import Event, EventType
from tests.conftest import REPO_ROOT
from tests.mcp.conftest import McpServer, data, error_text
from tests.waiting import wait_until

pytestmark = pytest.mark.timeout(90)

REQ = "events:stream:v1:requested"
FILTERS = {"sentimentt": "x"}
RANGE = '{"min": 0.5, "max": -0.5}'
# (JSON query, URL parameters, herald tail arguments): one bad query each.
BAD: list[tuple[dict[str, Any], dict[str, str], list[str]]] = [
    ({"types": ["tweet:nope"]}, {"types": "tweet:nope"}, ["--type", "tweet:nope"]),
    ({"platforms": ["myspace"]}, {"platforms": "myspace"}, ["--platform", "myspace"]),
    (
        {"filters": FILTERS},
        {"filters": orjson.dumps(FILTERS).decode()},
        ["--filters", orjson.dumps(FILTERS).decode()],
    ),
    ({"since": "yesterday"}, {"since": "yesterday"}, ["--since", "yesterday"]),
    ({"sentiment": "happy"}, {"sentiment": "happy"}, ["--sentiment", "happy"]),
    (
        {"sentiment": {"min": 0.5, "max": -0.5}},
        {"sentiment": RANGE},
        ["--sentiment", RANGE],
    ),
    ({"channels": ["x" * 201]}, {"channels": "x" * 201}, ["--channel", "x" * 201]),
    ({"streamIds": ["bad id!"]}, {"streamIds": "bad id!"}, ["bad id!"]),
]


def expected(raw: dict[str, Any]) -> str:
    with pytest.raises(HeraldError) as caught:
        parse_query(raw)
    return caught.value.detail


async def socketio_detail(url: str, raw: dict[str, Any]) -> str:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(url, transports=["websocket"])
    try:
        ack = await client.call("subscribe", raw, timeout=10)
    finally:
        await client.disconnect()
    assert ack["error"] == "validation_error", ack
    return str(ack["detail"])


async def ws_detail(url: str, raw: dict[str, Any]) -> str:
    async with websockets.connect(url.replace("http://", "ws://") + "/ws") as ws:
        await ws.send(orjson.dumps({"type": REQ, "id": "q", "payload": raw}).decode())
        while True:
            msg = orjson.loads(await asyncio.wait_for(ws.recv(), 10))
            if msg["type"] != "events:stream:v1:heartbeat":
                break
    assert msg["type"] == "events:stream:v1:error" and msg["id"] == "q", msg
    return str(msg["payload"]["detail"])


async def http_detail(http: httpx.AsyncClient, path: str, params: dict[str, str]) -> str:
    answer = await http.get(path, params=params)
    assert answer.status_code == 400, (path, params, answer.text)
    assert answer.json()["error"] == "validation_error"
    return str(answer.json()["detail"])


async def cli_stderr(url: str, args: list[str]) -> str:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "herald.cli", "tail", "--url", url, *args,
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 1, stderr
    return " ".join(stderr.decode().split())  # the console may wrap a long line


async def test_the_same_bad_query_gets_the_same_error_everywhere(server: McpServer) -> None:
    url = server.url
    async with httpx.AsyncClient(base_url=url, timeout=20) as http, Client(f"{url}/mcp") as mcp:
        for raw, params, args in BAD:
            detail = expected(raw)
            assert await socketio_detail(url, raw) == detail, raw
            assert await ws_detail(url, raw) == detail, raw
            assert await http_detail(http, "/api/events", params) == detail, params
            assert await http_detail(http, "/api/events/log", params) == detail, params
            tool = await mcp.call_tool("x_stream_events", raw)
            assert detail in error_text(tool), (raw, error_text(tool))
            assert f"error: {detail}" in await cli_stderr(url, args), args


async def test_platforms_select_on_push_and_pull(server: McpServer) -> None:
    redis, key = server.herald.redis, server.herald.keys.events

    async def append(n: int, platform: str | None) -> str:
        extra = {"platform": platform} if platform is not None else {}
        ev = Event(EventType.TWEET_NEW, "s1", "a", str(n), {"tweet": {"id": str(n)}, **extra})
        fields = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
        offset = await redis.xadd(key, fields)  # type: ignore[arg-type]
        return offset.decode() if isinstance(offset, bytes) else str(offset)

    client = socketio.AsyncClient(reconnection=False)
    pushed: list[dict[str, Any]] = []
    client.on("stream:tweet:new", pushed.append)
    await client.connect(url := server.url, transports=["websocket"])
    try:
        ack = await client.call("subscribe", {"platforms": ["x"]}, timeout=10)
        assert ack["recovered"] is True, ack
        legacy, other, tagged = await append(1, None), await append(2, "rss"), await append(3, "x")
        async with httpx.AsyncClient(base_url=url, timeout=20) as http:
            params = {"since": "0", "platforms": "x"}
            pulled = (await http.get("/api/events/log", params=params)).json()
        async with Client(f"{url}/mcp") as mcp:
            tool = data(await mcp.call_tool("x_stream_events", {"since": "0", "platforms": ["x"]}))
        # In order: had the rss event been delivered, it would be the second one.
        await wait_until(lambda: len(pushed) >= 2, 20, what="two pushed events")
    finally:
        await client.disconnect()
    want = [legacy, tagged]
    assert [e["offset"] for e in pulled["events"]] == want and pulled["cursor"] == tagged
    assert [e["offset"] for e in tool["events"]] == want
    assert [e["offset"] for e in pushed] == want, other


async def test_sentiment_selects_on_push_and_pull(server: McpServer) -> None:
    redis, key = server.herald.redis, server.herald.keys.events

    async def append(n: int, sentiment: dict[str, Any] | None) -> str:
        tweet: dict[str, Any] = {"id": str(n), "text": "t"}
        if sentiment is not None:
            tweet["sentiment"] = sentiment
        ev = Event(EventType.TWEET_NEW, "s1", "a", str(n), {"tweet": tweet, "platform": "x"})
        fields = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
        offset = await redis.xadd(key, fields)  # type: ignore[arg-type]
        return offset.decode() if isinstance(offset, bytes) else str(offset)

    sad = {"compound": -0.7, "label": "negative"}
    glad = {"compound": 0.6, "label": "positive"}
    client = socketio.AsyncClient(reconnection=False)
    pushed: list[dict[str, Any]] = []
    client.on("stream:tweet:new", pushed.append)
    await client.connect(url := server.url, transports=["websocket"], wait_timeout=10)
    try:
        ack = await client.call("subscribe", {"sentiment": {"max": -0.3}}, timeout=10)
        assert ack["recovered"] is True, ack
        first = await append(1, sad)
        await append(2, glad)
        await append(3, None)
        last = await append(4, sad)
        async with httpx.AsyncClient(base_url=url, timeout=20) as http:
            params = {"since": "0", "sentiment": "negative"}
            pulled = (await http.get("/api/events/log", params=params)).json()
        async with Client(f"{url}/mcp") as mcp:
            args = {"since": "0", "sentiment": {"min": -1, "max": -0.3}}
            tool = data(await mcp.call_tool("x_stream_events", args))
        await wait_until(lambda: len(pushed) >= 2, 20, what="two pushed events")
    finally:
        await client.disconnect()
    want = [first, last]
    assert [e["offset"] for e in pulled["events"]] == want
    assert [e["offset"] for e in tool["events"]] == want
    assert [e["offset"] for e in pushed] == want

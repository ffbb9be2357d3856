"""Connection caps on every transport (refused with a reason, admitted again once a slot
frees) and ``GET /api/connections`` for an operator."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import orjson
import pytest
import redis.asyncio as aioredis
import socketio
import websockets
from delivery_helpers import Server, append, running_server, tweet, wait_for

from herald.auth import Authenticator
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(60)

REQ = "events:stream:v1:requested"
KEY = "caps-test-key-5b1e"
SECRET = "caps-test-jwt-secret-8d2f-0123456789abcdef"


@contextlib.asynccontextmanager
async def sse(url: str, address: str = "127.0.0.1", **params: str) -> AsyncIterator[None]:
    """An open SSE response (past its ``subscribed`` event) for the block."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with (
        httpx.AsyncClient(transport=transport, timeout=10) as http,
        http.stream("GET", f"{url}/api/events", params=params) as response,
    ):
        assert response.status_code == 200
        # Held until the block ends: a dropped line iterator would close the response.
        lines = response.aiter_lines()
        async for line in lines:
            if line.startswith("event: subscribed"):
                break
        yield


async def sse_refusal(url: str, address: str = "127.0.0.1") -> httpx.Response:
    transport = httpx.AsyncHTTPTransport(local_address=address)
    async with httpx.AsyncClient(transport=transport, timeout=10) as http:
        return await http.get(f"{url}/api/events")


async def ws_refusal(server: Server) -> tuple[int, str]:
    async with websockets.connect(server.ws_url) as ws:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def sio_refusal(server: Server) -> Any:
    client = socketio.AsyncClient(reconnection=False)
    refused: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    client.on("connect_error", lambda data: refused.done() or refused.set_result(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(server.url, transports=["websocket"], wait_timeout=5)
    return await asyncio.wait_for(refused, 5)


@pytest.mark.server_settings(max_connections=2, heartbeat_interval=30)
async def test_the_cap_counts_every_transport_and_frees_again(server: Server) -> None:
    registry = server.delivery.ctx.connections
    async with websockets.connect(server.ws_url) as first, sse(server.url):
        await wait_for(lambda: len(registry) == 2)

        code, reason = await ws_refusal(server)
        assert code == 1013 and "maximum of 2 connections" in reason, (code, reason)
        answer = await sse_refusal(server.url)
        assert answer.status_code == 503
        assert answer.json()["error"] == "too_many_connections"
        assert "HERALD_MAX_CONNECTIONS" in answer.json()["detail"]
        data = await sio_refusal(server)
        assert "maximum of 2 connections" in str(data), data
        async with httpx.AsyncClient(timeout=10) as http:
            handshake = await http.get(f"{server.url}/socket.io/?EIO=4&transport=polling")
        assert handshake.status_code == 503
        assert handshake.json()["error"] == "too_many_connections"
        assert len(registry) == 2

        await first.close()
        await wait_for(lambda: len(registry) == 1)
        client = socketio.AsyncClient(reconnection=False)
        await client.connect(server.url, transports=["websocket"], wait_timeout=5)
        try:
            assert len(registry) == 2
        finally:
            await client.disconnect()
        await wait_for(lambda: len(registry) == 1)
        async with websockets.connect(server.ws_url) as again:
            await again.send(orjson.dumps({"type": REQ, "id": "a", "payload": {}}).decode())
            started = orjson.loads(await asyncio.wait_for(again.recv(), 5))
            assert started["type"] == "events:stream:v1:started"


@pytest.mark.server_settings(max_connections_per_address=1, heartbeat_interval=30)
async def test_the_per_address_cap_refuses_only_that_address(server: Server) -> None:
    registry = server.delivery.ctx.connections
    async with sse(server.url):
        await wait_for(lambda: len(registry) == 1)
        answer = await sse_refusal(server.url)
        assert answer.status_code == 429
        assert "per client address" in answer.json()["detail"]
        code, reason = await ws_refusal(server)
        assert code == 1013 and "per client address" in reason
        assert "per client address" in str(await sio_refusal(server))
        # Another address still gets in.
        async with sse(server.url, address="127.0.0.2"):
            await wait_for(lambda: len(registry) == 2)
    await wait_for(lambda: len(registry) == 0)
    async with sse(server.url):
        assert len(registry) == 1


def token(**claims: Any) -> str:
    return jwt.encode({"sub": "reader", "exp": int(time.time()) + 600, **claims}, SECRET)


@pytest.fixture
async def secured(external_redis: aioredis.Redis, keys: Keys) -> AsyncIterator[Server]:
    auth = Authenticator([KEY], SECRET)
    async with running_server(external_redis, keys, auth=auth, heartbeat_interval=30) as srv:
        yield srv


async def test_connections_are_listed_for_an_admin_only(secured: Server) -> None:
    server = secured
    registry = server.delivery.ctx.connections
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, transports=["websocket"], auth={"token": KEY})
    try:
        async with (
            websockets.connect(f"{server.ws_url}?token={KEY}") as ws,
            sse(server.url, token=token(), types="tweet:new"),
        ):
            payload = {"streamIds": ["s1"], "types": ["stream:tweet:new"]}
            await ws.send(orjson.dumps({"type": REQ, "id": "a", "payload": payload}).decode())
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"].endswith("started")
            await ws.send(b"not json")
            assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"].endswith("error")
            await append(server.redis, server.keys, [tweet(1), tweet(2)])
            for _ in range(2):
                assert orjson.loads(await asyncio.wait_for(ws.recv(), 5))["type"].endswith("stream")
            await wait_for(lambda: len(registry) == 3)

            async with httpx.AsyncClient(base_url=server.url, timeout=10) as http:
                auth = {"Authorization": f"Bearer {KEY}"}
                await wait_for_sent(http, auth)
                listed = (await http.get("/api/connections", headers=auth)).json()
                restricted = await http.get(
                    "/api/connections", headers={"Authorization": f"Bearer {token(streams=['s1'])}"}
                )
                unkeyed = await http.get("/api/connections")
    finally:
        await client.disconnect()

    assert listed["count"] == 3 and listed["limits"]["total"] == 20_000
    rows = {row["transport"]: row for row in listed["connections"]}
    assert set(rows) == {"ws", "sse", "socketio"}
    fields = {"id", "transport", "address", "subject", "subscription", "eventsSent"}
    fields |= {"queueDepth", "errors", "connectedSince"}
    for row in rows.values():
        assert set(row) == fields and row["address"] == "127.0.0.1"
        assert row["connectedSince"].endswith("Z") and row["queueDepth"] >= 0
        assert KEY not in orjson.dumps(row).decode()
    ws_row = rows["ws"]
    assert ws_row["subject"].startswith("key:") and ws_row["errors"] == 1
    assert ws_row["eventsSent"] == 2
    assert ws_row["subscription"] == {
        "a": {
            "streamIds": ["s1"],
            "types": ["stream:tweet:new"],
            "platforms": None,
            "filters": None,
        }
    }
    assert rows["sse"]["subject"] == "reader"
    assert rows["sse"]["subscription"]["sse"]["types"] == ["stream:tweet:new"]
    assert rows["socketio"]["subscription"]["compat"]["streamIds"] is None
    assert restricted.status_code == 403 and restricted.json()["error"] == "forbidden"
    assert unkeyed.status_code == 401
    await wait_for(lambda: len(registry) == 0)


async def wait_for_sent(http: httpx.AsyncClient, auth: dict[str, str]) -> None:
    """Until every connection has counted the two events (the tail dispatches them)."""
    for _ in range(250):
        rows = (await http.get("/api/connections", headers=auth)).json()["connections"]
        if all(row["eventsSent"] == 2 for row in rows):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"events not counted: {rows}")

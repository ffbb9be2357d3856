"""WebSocket /ws with the `websockets` client: lifecycle, bad requests, slow and idle clients."""

from __future__ import annotations

import asyncio
import os
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
import websockets
from delivery_helpers import (
    Server,
    StalledWebSocket,
    append,
    append_n,
    running_server,
    tweet,
    wait_for,
)
from websockets.asyncio.client import ClientConnection

from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(30)

REQ = "events:stream:v1:requested"


async def recv(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    msg: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout))
    return msg


async def recv_type(ws: ClientConnection, msg_type: str, timeout: float = 5) -> dict[str, Any]:
    """The next message of ``msg_type``, skipping heartbeats."""
    while True:
        msg = await recv(ws, timeout)
        if msg["type"] != "events:stream:v1:heartbeat" or msg_type.endswith("heartbeat"):
            assert msg["type"] == msg_type, msg
            return msg


async def subscribe(ws: ClientConnection, sub_id: Any, **payload: Any) -> dict[str, Any]:
    await ws.send(orjson.dumps({"type": REQ, "id": sub_id, "payload": payload}).decode())
    return await recv_type(ws, "events:stream:v1:started")


async def test_lifecycle_started_stream_heartbeat_success(server: Server) -> None:
    async with websockets.connect(server.ws_url) as ws:
        started = await subscribe(ws, "a", streamIds=["s1"])
        assert started["id"] == "a"
        assert started["payload"]["recovered"] is True
        await append(server.redis, server.keys, [tweet(1, "s2"), tweet(2, "s1")])
        msg = await recv_type(ws, "events:stream:v1:stream")
        assert msg["id"] == "a"
        assert msg["payload"]["streamId"] == "s1"
        assert msg["payload"]["tweet"]["id"] == "2"
        assert msg["payload"]["offset"]
        hb = await recv_type(ws, "events:stream:v1:heartbeat", timeout=3)
        assert "offset" in hb["payload"]
        await ws.send(orjson.dumps({"type": "events:stream:v1:unsubscribe", "id": "a"}).decode())
        done = await recv_type(ws, "events:stream:v1:success")
        assert done["id"] == "a"
        await append_n(server.redis, server.keys, 3)
        # Nothing more for "a": the next message is a heartbeat.
        await recv_type(ws, "events:stream:v1:heartbeat", timeout=3)


async def test_several_subscriptions_each_with_its_id(server: Server) -> None:
    async with websockets.connect(server.ws_url) as ws:
        await subscribe(ws, "tweets", types=["stream:tweet:new"])
        await subscribe(ws, 7, streamIds=["s2"])
        await append(server.redis, server.keys, [tweet(1, "s1"), tweet(2, "s2")])
        got = [await recv_type(ws, "events:stream:v1:stream") for _ in range(3)]
        pairs = sorted((str(m["id"]), m["payload"]["streamId"]) for m in got)
        assert pairs == [("7", "s2"), ("tweets", "s1"), ("tweets", "s2")]


async def test_ten_malformed_messages_get_ten_errors_and_the_connection_survives(
    server: Server,
) -> None:
    bad = [
        "not json",
        "[1, 2]",
        '{"id": "x"}',
        '{"type": 5, "id": "x"}',
        '{"type": "events:stream:v1:bogus", "id": "x"}',
        f'{{"type": "{REQ}"}}',
        f'{{"type": "{REQ}", "id": "x", "payload": {{"streamIds": "!!"}}}}',
        f'{{"type": "{REQ}", "id": "x", "payload": {{"since": "yesterday"}}}}',
        f'{{"type": "{REQ}", "id": "x", "payload": {{"filters": {{"regex": "(a"}}}}}}',
        '{"type": "events:stream:v1:unsubscribe", "id": "never"}',
    ]
    async with websockets.connect(server.ws_url) as ws:
        for raw in bad:
            await ws.send(raw)
        errors = [await recv_type(ws, "events:stream:v1:error") for _ in bad]
        assert len(errors) == 10
        assert all(e["payload"]["error"] and e["payload"]["detail"] for e in errors)
        details = " ".join(e["payload"]["detail"] for e in errors)
        assert "streamIds" in details and "since" in details and "filters.regex" in details
        started = await subscribe(ws, "ok")
        assert started["id"] == "ok"


async def test_refused_token_closes_with_4401(external_redis: aioredis.Redis, keys: Keys) -> None:
    async with running_server(external_redis, keys, api_keys=["k1"]) as srv:
        async with websockets.connect(srv.ws_url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as info:
                await recv(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4401
        assert "missing token" in info.value.rcvd.reason
        async with websockets.connect(srv.ws_url + "?token=k2") as ws:
            with pytest.raises(websockets.ConnectionClosed) as info:
                await recv(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4401
        headers = {"Authorization": "Bearer k1"}
        async with websockets.connect(srv.ws_url, additional_headers=headers) as ws:
            assert (await subscribe(ws, "a"))["id"] == "a"


async def test_idle_connection_is_closed_with_4408(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    async with running_server(external_redis, keys, idle_timeout=0.3) as srv:
        async with websockets.connect(srv.ws_url) as ws:
            with pytest.raises(websockets.ConnectionClosed) as info:
                while True:
                    await recv(ws)
        assert info.value.rcvd is not None and info.value.rcvd.code == 4408


def current_rss() -> int:
    """Resident set size of this process (server and clients run in it), in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.mark.server_settings(client_queue=100)
async def test_slow_client_is_cut_off_with_4008_while_others_keep_receiving(server: Server) -> None:
    fast_got: list[str] = []
    async with websockets.connect(server.ws_url, max_size=None) as fast:
        slow = StalledWebSocket(server.url, "/ws")
        await slow.open()
        await slow.send_text(orjson.dumps({"type": REQ, "id": "s", "payload": {}}).decode())
        await subscribe(fast, "f")
        await wait_for(
            lambda: (
                server.delivery.hub.group_count == 1
                and len(server.delivery.hub._groups[("ws", "*|*|")].members) == 2
            )
        )

        async def read_fast(n: int) -> None:
            while len(fast_got) < n:
                msg = await recv(fast)
                if msg["type"] == "events:stream:v1:stream":
                    fast_got.append(msg["payload"]["offset"])

        big = "x" * 50_000
        offsets: list[str] = []
        rss_before = current_rss()
        for batch in range(40):  # 1,000 events of 50 KB: 50 MB the slow client never reads
            # Paced to the fast client, which must never fall behind; the slow one does.
            events = [tweet(batch * 25 + i, text=big) for i in range(25)]
            offsets += await append(server.redis, server.keys, events)
            await asyncio.wait_for(read_fast(len(offsets)), 20)
        assert fast_got == offsets
        # Memory stays flat: the slow client's backlog is bounded (100 events, ~5 MB here)
        # and dropped when it is cut off, so the server never holds the 50 MB it missed.
        grown = current_rss() - rss_before
        assert grown < 25 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"
        # The slow client was dropped from delivery and its socket let go (that it is told
        # why when it reads is test_delivery_slow_release.py's business).
        await wait_for(lambda: server.delivery.connected_clients()["ws"] == 1)
        slow.close()

"""The seed's module-level functions, and setIO with a user's own Socket.IO server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import socketio

from herald import streaming
from herald.config import Settings
from herald.service import Herald
from herald.sources.catalog import stream_types
from herald.sources.memory import MemorySource
from tests.servers import serve_asgi


@pytest.fixture
async def configured(settings: Settings, source: MemorySource) -> AsyncIterator[Herald]:
    herald = Herald(settings, sources=[source])
    streaming.configure(herald)
    yield herald
    await streaming.shutdown()


async def test_seed_functions_round_trip(configured: Herald, source: MemorySource) -> None:
    # The seed's three first; platforms added to the catalog follow them.
    assert streaming.STREAM_TYPES[:3] == ("tweet", "follower", "mention")
    assert tuple(t.name for t in stream_types()) == streaming.STREAM_TYPES
    stream = await streaming.create_stream("tweet", "elonmusk", interval=60)
    assert {k: stream[k] for k in ("type", "username", "status", "interval")} == {
        "type": "tweet",
        "username": "elonmusk",
        "status": "active",
        "interval": 60000,
    }
    assert [s["id"] for s in await streaming.list_streams()] == [stream["id"]]
    assert (await streaming.pause_stream(stream["id"]))["status"] == "paused"
    assert (await streaming.resume_stream(stream["id"]))["status"] == "active"
    assert (await streaming.update_stream(stream["id"], interval=30))["interval"] == 30000
    status = await streaming.get_stream_status(stream["id"])
    assert status["id"] == stream["id"] and status["consecutiveErrors"] == 0
    history = await streaming.get_stream_history(stream["id"], 10)
    assert [e["type"] for e in history][-1] == "stream:started"
    stats = await streaming.get_stream_stats()
    assert stats["total"] == 1 and stats["active"] == 1
    assert await streaming.is_healthy() is True
    assert await streaming.stop_stream(stream["id"]) == {"success": True, "streamId": stream["id"]}
    await streaming.create_stream("mention", "a1")
    await streaming.create_stream("follower", "a2")
    assert await streaming.stop_all_streams() == {"stopped": 2, "failed": 0, "total": 2}


async def test_set_io_emits_to_the_users_own_socketio_server(
    configured: Herald, source: MemorySource
) -> None:
    sio = socketio.AsyncServer(async_mode="asgi")
    got: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    client = socketio.AsyncClient()
    client.on("stream:tweet:new", got.put_nowait)
    async with serve_asgi(socketio.ASGIApp(sio)) as url:
        streaming.set_io(sio)
        await client.connect(url, transports=["websocket"])
        try:
            source.post("neo", "old")
            stream = await streaming.create_stream("tweet", "neo")
            await configured.manager.poll_now(stream["id"])
            source.post("neo", "seen by my own server")
            await configured.manager.poll_now(stream["id"])
            event = await asyncio.wait_for(got.get(), 5)
            assert event["tweet"]["text"] == "seen by my own server"
            assert event["streamId"] == stream["id"]
        finally:
            await client.disconnect()

"""The seed's Socket.IO client code receives events without subscribing to anything."""

from __future__ import annotations

import asyncio
from typing import Any

import socketio

from tests.api.conftest import Server


async def test_python_socketio_client_gets_events_without_subscribing(server: Server) -> None:
    received: asyncio.Queue[tuple[str, dict[str, Any]]] = asyncio.Queue()
    client = socketio.AsyncClient()
    for name in ("stream:tweet:new", "stream:started", "stream:error"):
        client.on(name, lambda data, name=name: received.put_nowait((name, data)))
    await client.connect(server.url, transports=["websocket"])
    try:
        server.source.post("zed", "before")
        created = (
            await server.client.post(
                "/api/streams/start", json={"type": "tweet", "username": "zed"}
            )
        ).json()
        name, started = await asyncio.wait_for(received.get(), 5)
        assert name == "stream:started" and started["streamId"] == created["id"]
        await server.client.post(f"/api/streams/{created['id']}/poll")
        tweet = server.source.post("zed", "hello world")
        await server.client.post(f"/api/streams/{created['id']}/poll")
        name, event = await asyncio.wait_for(received.get(), 5)
        assert name == "stream:tweet:new"
        assert event["streamId"] == created["id"] and event["username"] == "zed"
        assert event["tweet"]["id"] == tweet.id and event["tweet"]["text"] == "hello world"
        assert {"text", "author", "timestamp", "url"} <= set(event["tweet"])
        assert event["type"] == "stream:tweet:new" and event["offset"] and event["eventId"]
        assert received.empty()
    finally:
        await client.disconnect()

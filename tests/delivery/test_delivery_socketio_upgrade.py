"""Socket.IO after an upgrade to WebSocket: the switch from Engine.IO's queue to direct
writes never lets an event overtake one the queue still holds.

Engine.IO's writer takes a packet from the queue and only then writes it. While it holds
one (taken, not yet written) the direct path must stay closed: an event written straight
to the socket in that moment would reach the client first. The test lets the writer take
a queued event and, on every turn of the event loop from then on, offers the next event
the moment the direct path opens, as the hub would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
import socketio
from delivery_helpers import Server, running_server, tweet

from herald.delivery.entry import Entry
from herald.delivery.sioclient import event_packet
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
async def direct_server(external_redis: aioredis.Redis, keys: Keys) -> AsyncIterator[Server]:
    """Only herald's own uvicorn protocol has a direct path to switch to."""
    async with running_server(external_redis, keys, heartbeat_interval=0.5) as srv:
        yield srv


def entry(n: int, offset: str) -> Entry:
    ev = tweet(n)
    return Entry.from_fields(offset, {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()})


async def test_direct_path_opens_only_after_the_writer_wrote_what_it_took(
    direct_server: Server,
) -> None:
    server = direct_server
    got: list[str] = []
    both = asyncio.Event()

    def on_event(data: dict[str, Any]) -> None:
        got.append(str(data["offset"]))
        if len(got) == 2:
            both.set()

    sio = socketio.AsyncClient(reconnection=False)
    sio.on("stream:tweet:new", on_event)
    # Default transports: long-polling first, then the upgrade (done before connect returns).
    await sio.connect(server.url, transports=["polling", "websocket"])
    try:
        assert sio.transport() == "websocket"
        # A call answered over the WebSocket: Engine.IO's writer is running and has gone
        # back to waiting on its queue.
        answer = await sio.call("no-such-event", timeout=5)
        assert answer["error"] == "unknown_event"
        client = server.delivery.socketio.clients[sio.get_sid()]
        sock = client._socket()
        assert sock is not None and sock.upgraded and client.proto is None

        first, second = entry(1, "4000000000000-0"), entry(2, "4000000000000-1")
        # What ``SioClient._send`` does while the direct path is closed: queue the packet.
        sock.queue.put_nowait(event_packet(first))
        loop = asyncio.get_running_loop()

        def offer_when_direct() -> None:
            if both.is_set():
                return
            if client._direct() is None:
                loop.call_soon(offer_when_direct)
            else:
                client.offer(second)

        loop.call_soon(offer_when_direct)
        try:
            await asyncio.wait_for(both.wait(), 10)
        finally:
            both.set()  # ends the probe, whatever happened
        assert got == [first.offset, second.offset]
    finally:
        await sio.disconnect()

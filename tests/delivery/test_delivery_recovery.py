"""Socket.IO v4 connection state recovery with the npm socket.io-client, unmodified.

The client is the seed's code (``io(url)`` and a listener, no subscribe). Its transport is
dropped while events flow; it reconnects by itself and must get every event once, in
order, with ``socket.recovered === true``.
"""

from __future__ import annotations

import asyncio

import pytest
from delivery_helpers import Server, append_n
from node_client import NodeClient

pytestmark = [pytest.mark.node, pytest.mark.timeout(90)]

TOTAL = 600
#: Events per appended batch and batches per second: 300 events/s.
BATCH, RATE = 10, 30


async def produce(server: Server, offsets: list[str]) -> None:
    """Append :data:`TOTAL` events at about 300 per second."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(TOTAL // BATCH):
        offsets += await append_n(server.redis, server.keys, BATCH, start=i * BATCH)
        # Pacing the producer (not waiting for a condition): the next batch is due then.
        await asyncio.sleep(max(0.0, start + (i + 1) / RATE - loop.time()))


@pytest.mark.parametrize("transports", ["websocket", "default", "polling"])
async def test_dropped_client_recovers_every_event_once_in_order(
    server: Server, transports: str
) -> None:
    client = await NodeClient.start(server.url, transports)
    try:
        await client.until(lambda: len(client.connects) == 1)
        assert client.connects[0]["recovered"] is False  # a fresh session
        offsets: list[str] = []
        producer = asyncio.create_task(produce(server, offsets))
        for drop_after in (100, 300):
            await client.until(lambda n=drop_after: len(client.events) >= n)  # type: ignore[misc]
            await client.command("drop")
            await client.until(lambda n=drop_after: len(client.connects) == (2 if n == 100 else 3))  # type: ignore[misc]
        await producer
        await client.until(lambda: len(client.events) >= TOTAL)
        assert client.events == offsets
        assert [c["recovered"] for c in client.connects] == [False, True, True]
        assert sum(1 for line in client.lines if "disconnect" in line) == 2
    finally:
        await client.close()


async def test_recovery_past_the_logs_retention_says_not_recovered(server: Server) -> None:
    client = await NodeClient.start(server.url, "websocket", mode="manual")
    try:
        await client.until(lambda: len(client.connects) == 1)
        first = await append_n(server.redis, server.keys, 3)
        await client.until(lambda: len(client.events) == 3)
        await client.command("drop")
        await client.until(lambda: any("disconnect" in line for line in client.lines))
        # While it is away, retention trims the log past the client's last offset.
        for i in range(5):
            await append_n(server.redis, server.keys, 10, start=100 + 10 * i)
        await server.redis.xtrim(server.keys.events, maxlen=5, approximate=False)
        await client.command("connect")
        await client.until(lambda: len(client.connects) == 2)
        assert client.connects[1]["recovered"] is False
        # It starts afresh: new events only, nothing replayed, nothing twice.
        later = await append_n(server.redis, server.keys, 2, start=900)
        await client.until(lambda: len(client.events) == 5)
        assert client.events == first + later
    finally:
        await client.close()


async def test_recovery_within_retention_while_disconnected(server: Server) -> None:
    client = await NodeClient.start(server.url, "websocket", mode="manual")
    try:
        await client.until(lambda: len(client.connects) == 1)
        first = await append_n(server.redis, server.keys, 3)
        await client.until(lambda: len(client.events) == 3)
        await client.command("drop")
        await client.until(lambda: any("disconnect" in line for line in client.lines))
        missed = await append_n(server.redis, server.keys, 50, start=100)
        await client.command("connect")
        await client.until(lambda: len(client.connects) == 2)
        later = await append_n(server.redis, server.keys, 2, start=900)
        await client.until(lambda: len(client.events) == 55)
        assert client.connects[1]["recovered"] is True
        assert client.events == first + missed + later
    finally:
        await client.close()

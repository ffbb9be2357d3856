"""Socket.IO v4 connection state recovery with the npm socket.io-client, unmodified.

The client is the seed's code (``io(url)`` and a listener, no subscribe). Its transport is
dropped while events flow; it reconnects by itself and must get every event once, in
order, with ``socket.recovered === true``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import pytest
from delivery_helpers import Server, append, append_n, tweet
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


def acks(client: NodeClient) -> list[dict[str, Any]]:
    return [line["ack"] for line in client.lines if "ack" in line]


async def drop_twice_while_events_flow(
    server: Server, client: NodeClient, settled: Callable[[], bool] = lambda: True
) -> list[str]:
    """Produce :data:`TOTAL` events, dropping the client's transport after 100 and 300.

    Each drop waits for ``settled()`` first (a drop loses an ack still in flight).
    """
    await client.until(lambda: len(client.connects) == 1)
    assert client.connects[0]["recovered"] is False  # a fresh session
    offsets: list[str] = []
    producer = asyncio.create_task(produce(server, offsets))
    for n, drop_after in enumerate((100, 300), start=2):
        await client.until(lambda d=drop_after: len(client.events) >= d)  # type: ignore[misc]
        await client.until(settled)
        await client.command("drop")
        await client.until(lambda n=n: len(client.connects) == n)  # type: ignore[misc]
    await producer
    await client.until(lambda: len(client.events) >= TOTAL)
    return offsets


@pytest.mark.parametrize("transports", ["websocket", "default", "polling"])
async def test_dropped_client_recovers_every_event_once_in_order(
    server: Server, transports: str
) -> None:
    client = await NodeClient.start(server.url, transports)
    try:
        offsets = await drop_twice_while_events_flow(server, client)
        assert client.events == offsets
        assert [c["recovered"] for c in client.connects] == [False, True, True]
        assert sum(1 for line in client.lines if "disconnect" in line) == 2
    finally:
        await client.close()


@pytest.mark.parametrize("transports", ["websocket", "default"])
async def test_documented_resume_pattern_loses_nothing(server: Server, transports: str) -> None:
    """``subscribe {since: last}`` on every ``connect``, as docs/delivery.md showed it."""
    client = await NodeClient.start(server.url, transports, mode="resume")
    try:
        offsets = await drop_twice_while_events_flow(
            server, client, settled=lambda: len(acks(client)) == len(client.connects)
        )
        await client.until(lambda: len(acks(client)) == 3)
        assert client.events == offsets
        assert all(ack["recovered"] is True for ack in acks(client)), acks(client)
    finally:
        await client.close()


async def test_recovery_restores_the_subscription(server: Server) -> None:
    client = await NodeClient.start(server.url, "websocket", mode="manual")
    try:
        await client.until(lambda: len(client.connects) == 1)
        await client.command('subscribe {"streamIds": ["s2"]}')
        await client.until(lambda: any("ack" in line for line in client.lines))
        mixed = [tweet(i, "s1" if i % 2 else "s2") for i in range(10)]
        first = (await append(server.redis, server.keys, mixed))[::2]
        await client.until(lambda: len(client.events) == 5)
        await client.command("drop")
        await client.until(lambda: any("disconnect" in line for line in client.lines))
        missed = [tweet(100 + i, "s1" if i % 2 else "s2") for i in range(20)]
        missed_s2 = (await append(server.redis, server.keys, missed))[::2]
        await client.command("connect")
        await client.until(lambda: len(client.connects) == 2)
        assert client.connects[1]["recovered"] is True
        later = await append(server.redis, server.keys, [tweet(900, "s1"), tweet(901, "s2")])
        await client.until(lambda: len(client.events) == 16)
        assert client.events == first + missed_s2 + later[1:]
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

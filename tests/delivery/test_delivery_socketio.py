"""Socket.IO with the python-socketio client: compat mode, subscriptions, resume, the seam."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import socketio
from delivery_helpers import (
    Server,
    StalledWebSocket,
    append,
    append_n,
    sentinel,
    tweet,
    wait_for,
)

from herald.delivery.socketio import DISCONNECT_EVENT

pytestmark = pytest.mark.timeout(30)


Received = list[dict[str, Any]]


async def connect(server: Server, **kwargs: Any) -> tuple[socketio.AsyncClient, Received]:
    client = socketio.AsyncClient(reconnection=False)
    got: list[dict[str, Any]] = []
    client.on("stream:tweet:new", got.append)
    await client.connect(server.url, transports=["websocket"], **kwargs)
    return client, got


async def test_compat_mode_receives_every_event_without_subscribing(server: Server) -> None:
    client, got = await connect(server)
    try:
        offsets = await append_n(server.redis, server.keys, 5)
        await wait_for(lambda: len(got) == 5)
        assert [e["offset"] for e in got] == offsets
        assert got[0]["type"] == "stream:tweet:new"
        assert got[0]["streamId"] == "s1"
        assert got[0]["tweet"]["text"] == "tweet number 0"
        assert server.delivery.connected_clients()["socketio"] == 1
    finally:
        await client.disconnect()


async def test_subscribe_narrows_delivery_and_acks(server: Server) -> None:
    client, got = await connect(server)
    try:
        ack = await client.call("subscribe", {"streamIds": ["s2"]}, timeout=5)
        assert ack["recovered"] is True
        assert isinstance(ack["offset"], str)
        await append(server.redis, server.keys, [tweet(1, "s1"), tweet(2, "s2"), tweet(3, "s1")])
        await wait_for(lambda: len(got) == 1)
        end = await sentinel(server.redis, server.keys, got, "s2")
        assert [e["streamId"] for e in got] == ["s2", "s2"] and got[-1]["offset"] == end
        bad = await client.call("subscribe", {"streamIds": 5}, timeout=5)
        assert bad["error"] == "validation_error" and "streamIds" in bad["detail"]
        assert (await client.call("unsubscribe", timeout=5))["success"] is True
    finally:
        await client.disconnect()


async def test_resume_after_disconnect_gets_exactly_the_missed_events(server: Server) -> None:
    client, got = await connect(server)
    await client.call("subscribe", {"streamIds": ["s1"]}, timeout=5)
    first = await append_n(server.redis, server.keys, 3)
    await wait_for(lambda: len(got) == 3)
    await client.disconnect()
    last = got[-1]["offset"]
    assert last == first[-1]

    missed = await append_n(server.redis, server.keys, 200, start=100)
    client, got = await connect(server)
    try:
        ack = await client.call("subscribe", {"streamIds": ["s1"], "since": last}, timeout=5)
        assert ack["recovered"] is True
        live = await append_n(server.redis, server.keys, 5, start=900)
        await wait_for(lambda: len(got) >= 205)
        end = await sentinel(server.redis, server.keys, got)
        assert [e["offset"] for e in got] == [*missed, *live, end]
    finally:
        await client.disconnect()


async def test_resubscribing_with_since_never_repeats_what_the_connection_got(
    server: Server,
) -> None:
    before = await append_n(server.redis, server.keys, 1)
    client, got = await connect(server)
    try:
        # Compat mode delivers live events before the client gets round to subscribing.
        live = await append_n(server.redis, server.keys, 4, start=10)
        await wait_for(lambda: len(got) == 4)
        ack = await client.call("subscribe", {"streamIds": ["s2"], "since": before[0]}, timeout=5)
        assert ack["recovered"] is True
        mixed = await append(
            server.redis, server.keys, [tweet(20, "s1"), tweet(21, "s2"), tweet(22, "s1")]
        )
        await wait_for(lambda: len(got) == 5)
        # Widening the selector replays only what the narrower one held back.
        ack = await client.call(
            "subscribe", {"streamIds": ["s1", "s2"], "since": before[0]}, timeout=5
        )
        assert ack["recovered"] is True
        await wait_for(lambda: len(got) == 7)
        end = await sentinel(server.redis, server.keys, got)
        offsets = [e["offset"] for e in got]
        assert offsets == [*live, mixed[1], mixed[0], mixed[2], end]
        assert len(set(offsets)) == len(offsets)
    finally:
        await client.disconnect()


async def test_offset_older_than_the_log_says_not_recovered_with_the_oldest(
    server: Server,
) -> None:
    old = await append_n(server.redis, server.keys, 5)
    await append(server.redis, server.keys, [tweet(i, "s1") for i in range(10, 20)], maxlen=10)
    oldest = (await server.redis.xrange(server.keys.events, "-", "+", count=1))[0][0].decode()
    client, got = await connect(server)
    try:
        ack = await client.call("subscribe", {"since": old[1]}, timeout=5)
        assert ack == {"recovered": False, "offset": oldest}
        # What the log still holds is replayed from its oldest entry.
        await wait_for(lambda: len(got) == 10)
        assert got[0]["offset"] == oldest
    finally:
        await client.disconnect()


async def test_seam_between_replay_and_live_has_no_gap_and_no_duplicate(server: Server) -> None:
    before = await append_n(server.redis, server.keys, 1500)
    tail = server.delivery.tail
    await wait_for(lambda: tail.offset == before[-1])
    produced: list[str] = []
    client, got = await connect(server)
    (sio_client,) = server.delivery.socketio.clients.values()

    async def produce() -> None:
        # Start once the server has taken the client out of compat mode, i.e. mid-replay.
        await wait_for(lambda: not server.delivery.hub.is_member(sio_client), interval=0.001)
        for i in range(30):
            produced.extend(await append_n(server.redis, server.keys, 10, start=10_000 + i * 10))
            await asyncio.sleep(0.002)

    try:
        producer = asyncio.create_task(produce())
        ack = await client.call("subscribe", {"since": before[0]}, timeout=5)
        assert ack["recovered"] is True
        await producer
        expected = before[1:] + produced
        await wait_for(lambda: len(got) >= len(expected), timeout=20)
        end = await sentinel(server.redis, server.keys, got)
        assert [e["offset"] for e in got] == [*expected, end]
    finally:
        await client.disconnect()


@pytest.mark.server_settings(client_queue=100)
async def test_slow_client_is_disconnected_while_others_keep_receiving(server: Server) -> None:
    fast, got = await connect(server)
    slow = StalledWebSocket(server.url, "/socket.io/?EIO=4&transport=websocket")
    try:
        await slow.open()
        await slow.send_text("40")
        await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 2)
        big = "x" * 50_000
        offsets: list[str] = []
        for batch in range(16):
            # Paced to the fast client, which must never fall behind; the slow one does.
            events = [tweet(batch * 25 + i, text=big) for i in range(25)]
            offsets += await append(server.redis, server.keys, events)
            n = len(offsets)
            await wait_for(lambda n=n: len(got) == n, timeout=20)
        assert [e["offset"] for e in got] == offsets
        await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 1)
    finally:
        slow.close()
        await fast.disconnect()


@pytest.mark.server_settings(client_queue=100)
async def test_slow_client_is_told_why(server: Server) -> None:
    """A client that reads again after being cut off gets the reason, then a disconnect."""
    client = socketio.AsyncClient(reconnection=False)
    reasons: list[dict[str, Any]] = []
    disconnected = asyncio.Event()
    client.on(DISCONNECT_EVENT, reasons.append)
    client.on("disconnect", lambda *_: disconnected.set())
    await client.connect(server.url, transports=["websocket"])
    try:
        (sio_client,) = server.delivery.socketio.clients.values()
        server.delivery.socketio.cut_off(sio_client, "slow_consumer")
        await asyncio.wait_for(disconnected.wait(), 10)
        assert reasons and reasons[0]["reason"] == "slow_consumer"
        assert "more than 100 events behind" in reasons[0]["detail"]
    finally:
        await client.disconnect()


async def test_websocket_clients_are_written_directly_and_polling_clients_queued(
    server: Server,
) -> None:
    on_ws, got_ws = await connect(server)
    polling = socketio.AsyncClient(reconnection=False)
    got_polling: Received = []
    polling.on("stream:tweet:new", got_polling.append)
    await polling.connect(server.url, transports=["polling"])
    try:
        offsets = await append_n(server.redis, server.keys, 20)
        await wait_for(lambda: len(got_ws) == 20 and len(got_polling) == 20)
        assert [e["offset"] for e in got_ws] == offsets
        assert [e["offset"] for e in got_polling] == offsets
        clients = {c.sid: c for c in server.delivery.socketio.clients.values()}
        ws_side, polling_side = clients[on_ws.get_sid()], clients[polling.get_sid()]
        # Under uvicorn's stock protocol the connection is not reachable: ASGI send it is.
        assert (ws_side.proto is not None) is (server.direct_writes)
        assert polling_side.proto is None
    finally:
        await polling.disconnect()
        await on_ws.disconnect()

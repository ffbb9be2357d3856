"""Socket.IO at the packet level, over raw WebSockets: CONNECT first, recovery, bad input."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
import pytest
import socketio
import websockets
from delivery_helpers import Server, append_n, wait_for

pytestmark = pytest.mark.timeout(60)


def sio_url(server: Server) -> str:
    return server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"


async def recv_text(ws: Any) -> str:
    """The next Engine.IO packet that is not a ping."""
    while True:
        msg = await ws.recv()
        assert isinstance(msg, str)
        if msg != "2":
            return msg


async def handshake(server: Server, connect: str = "40") -> tuple[Any, str]:
    """Open a raw Engine.IO session and send ``connect``; returns it and the first reply."""
    ws = await websockets.connect(sio_url(server))
    assert (await recv_text(ws)).startswith("0{")
    await ws.send(connect)
    return ws, await recv_text(ws)


async def test_no_event_reaches_a_socket_before_its_connect(server: Server) -> None:
    """Events flow at about 300/s while 200 clients connect: each one sees CONNECT first."""
    stop = asyncio.Event()

    async def produce() -> None:
        n = 0
        while not stop.is_set():
            await append_n(server.redis, server.keys, 1, start=n)
            n += 1
            await asyncio.sleep(1 / 300)  # pacing the producer, not waiting for anything

    async def one() -> tuple[str, str]:
        ws, first = await handshake(server)
        try:
            # Wait for one event after CONNECT too, so the race had every chance.
            return first, await recv_text(ws)
        finally:
            await ws.close()

    producer = asyncio.create_task(produce())
    try:
        results = []
        for _ in range(5):
            results += await asyncio.gather(*(one() for _ in range(40)))
    finally:
        stop.set()
        await producer
    firsts = [first[:2] for first, _ in results]
    assert firsts == ["40"] * 200, [f for f in firsts if f != "40"][:3]
    assert all(second.startswith('42["stream:tweet:new"') for _, second in results)


async def test_connect_carries_a_pid_and_an_unknown_pid_is_not_recovered(server: Server) -> None:
    ws, first = await handshake(server)
    await ws.close()
    data = orjson.loads(first[2:])
    assert set(data) == {"sid", "pid"}
    ws, again = await handshake(server, '40{"pid":"' + "x" * 24 + '","offset":"1-0"}')
    await ws.close()
    answer = orjson.loads(again[2:])
    assert answer["pid"] != "x" * 24 and answer["pid"] != data["pid"]


async def test_leaving_the_main_namespace_keeps_the_engine_session(server: Server) -> None:
    ws, first = await handshake(server)
    try:
        assert first.startswith("40")
        await ws.send("41")
        await ws.send("40")  # the same Engine.IO session connects the namespace again
        assert (await recv_text(ws)).startswith("40")
    finally:
        await ws.close()


async def test_unknown_namespace_gets_invalid_namespace(server: Server) -> None:
    ws, reply = await handshake(server, "40/random,")
    await ws.close()
    assert reply == '44/random,{"message":"Invalid namespace"}'


async def test_unknown_event_with_an_ack_gets_an_error_ack(server: Server) -> None:
    client = socketio.AsyncClient(reconnection=False)
    await client.connect(server.url, transports=["websocket"])
    try:
        answer = await client.call("no-such-event", {"x": 1}, timeout=5)
        assert answer["error"] == "unknown_event"
        assert "no-such-event" in answer["detail"]
    finally:
        await client.disconnect()


async def test_malformed_packets_log_one_line_not_a_traceback_each(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    for i in range(100):
        ws, first = await handshake(server)
        assert first.startswith("40")
        await ws.send(["4abc", "42{}", '42abc["x"]', "9", "4"][i % 5])
        await ws.wait_closed()  # a malformed packet closes the connection
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    text = "\n".join(r.getMessage() for r in lines)
    assert len(lines) <= 2, text
    assert not any(r.exc_info for r in caplog.records), text
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize("recovery", [None, True])
async def test_the_offset_argument_only_for_clients_that_take_it(
    server: Server, recovery: bool | None
) -> None:
    """A Python handler gets the body alone, unless the client asks for the offset too."""
    client = socketio.AsyncClient(reconnection=False)
    got: list[tuple[Any, ...]] = []

    async def on_tweet(*args: Any) -> None:
        got.append(args)

    client.on("stream:tweet:new", on_tweet)
    auth = {"recovery": recovery} if recovery is not None else None
    await client.connect(server.url, transports=["websocket"], auth=auth)
    try:
        (offset,) = await append_n(server.redis, server.keys, 1)
        await wait_for(lambda: len(got) == 1)
        if recovery:
            body, last = got[0]
            assert last == offset == body["offset"]
        else:
            ((body,),) = got
            assert body["offset"] == offset
    finally:
        await client.disconnect()


async def test_an_upgraded_client_moves_to_direct_writes_in_order(server: Server) -> None:
    """Polling first (CONNECT and early events in Engine.IO's queue), then the upgrade."""
    client = socketio.AsyncClient(reconnection=False)
    got: list[dict[str, Any]] = []
    client.on("stream:tweet:new", got.append)
    await client.connect(server.url)  # polling, then an upgrade to WebSocket
    try:
        early = await append_n(server.redis, server.keys, 20)
        await wait_for(lambda: client.transport() == "websocket")
        late = await append_n(server.redis, server.keys, 20, start=100)
        await wait_for(lambda: len(got) == 40)
        assert [e["offset"] for e in got] == early + late
        (sio_client,) = server.delivery.socketio.clients.values()
        assert (sio_client.proto is not None) is server.direct_writes
    finally:
        await client.disconnect()

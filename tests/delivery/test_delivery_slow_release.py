"""A client that stops reading is cut off with a reason on every transport, and the server
lets go of its socket within seconds instead of holding it ESTABLISHED for a minute.

The clients here are raw sockets with a tiny receive buffer that stop reading; the server
is ``herald serve``'s uvicorn setup (herald's protocol classes) in this process, so the
server's side of each connection is visible in ``/proc/net/tcp``.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import redis.asyncio as aioredis
from delivery_helpers import Server, StalledWebSocket, append, running_server, tweet, wait_for

from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(60)

QUEUE = 20
BIG = "x" * 20_000


@pytest.fixture
async def server(external_redis: aioredis.Redis, keys: Keys) -> AsyncIterator[Server]:
    async with running_server(
        external_redis, keys, client_queue=QUEUE, heartbeat_interval=30
    ) as srv:
        yield srv


def established(server_port: int, client_port: int) -> bool:
    """Whether the server's end of the connection from ``client_port`` is ESTABLISHED."""
    with open("/proc/net/tcp") as table:
        for line in table.readlines()[1:]:
            local, remote, state = line.split()[1:4]
            if (
                state == "01"
                and int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return True
    return False


def ports(server: Server, sock: socket.socket) -> tuple[int, int]:
    return int(server.url.rsplit(":", 1)[1]), int(sock.getsockname()[1])


async def flood_until(server: Server, cut: Callable[[], bool]) -> None:
    """Append big events, each batch once the node has dispatched the last, until ``cut()``."""
    for batch in range(200):
        offsets = await append(
            server.redis, server.keys, [tweet(batch * 10 + i, text=BIG) for i in range(10)]
        )
        last = tuple(int(x) for x in offsets[-1].split("-"))
        await wait_for(lambda last=last: server.delivery.tail.position >= last)
        if cut():
            return
    raise AssertionError("the stalled client was never cut off")


async def read_frames(slow: StalledWebSocket) -> tuple[list[bytes], int, str]:
    """Every text frame, then the close frame's code and reason (EOF: code 1006)."""
    texts: list[bytes] = []
    while True:
        try:
            b0, b1 = await slow._exactly(2)
        except ConnectionError:
            return texts, 1006, ""
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", await slow._exactly(2))
        elif n == 127:
            (n,) = struct.unpack("!Q", await slow._exactly(8))
        payload = await slow._exactly(n)
        if b0 & 0x0F == 0x8:
            return texts, struct.unpack("!H", payload[:2])[0], payload[2:].decode()
        texts.append(payload)


async def released_within(server: Server, sock: socket.socket, seconds: float) -> float:
    """Seconds until the server's end of ``sock``'s connection is no longer ESTABLISHED."""
    start = time.monotonic()
    await wait_for(lambda: not established(*ports(server, sock)), timeout=seconds)
    return time.monotonic() - start


async def open_ws(server: Server, path: str, first: str) -> StalledWebSocket:
    slow = StalledWebSocket(server.url, path)
    await slow.open()
    await slow.send_text(first)
    return slow


async def ws_client(server: Server) -> StalledWebSocket:
    request = {"type": "events:stream:v1:requested", "id": "s", "payload": {}}
    slow = await open_ws(server, "/ws", orjson.dumps(request).decode())
    await wait_for(lambda: server.delivery.hub.group_count == 1)
    return slow


async def sio_client(server: Server) -> StalledWebSocket:
    slow = await open_ws(server, "/socket.io/?EIO=4&transport=websocket", "40")
    await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 1)
    return slow


def sse_cut(server: Server) -> bool:
    """The SSE client was cut off (its response may still be writing the reason)."""
    return all(stream.ended for stream in server.delivery.ctx.sse_streams)


class RawSse:
    """``GET /api/events`` on a socket with a tiny receive buffer that is not read."""

    def __init__(self, server: Server) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.sock.setblocking(False)
        self.server = server

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.sock_connect(self.sock, ("127.0.0.1", int(self.server.url.rsplit(":", 1)[1])))
        await loop.sock_sendall(self.sock, b"GET /api/events HTTP/1.1\r\nHost: herald\r\n\r\n")

    async def read_all(self) -> bytes:
        loop = asyncio.get_running_loop()
        data = b""
        while chunk := await loop.sock_recv(self.sock, 65536):
            data += chunk
        return data


Connect = Callable[[Server], Awaitable[StalledWebSocket]]
WS_CLIENTS = [pytest.param(ws_client, id="ws"), pytest.param(sio_client, id="socketio")]


def transport_of(connect: Connect) -> str:
    return "ws" if connect is ws_client else "socketio"


@pytest.mark.parametrize("connect", WS_CLIENTS)
async def test_websocket_reader_gets_the_reason_then_the_socket_goes(
    server: Server, connect: Connect
) -> None:
    slow = await connect(server)
    kind = transport_of(connect)
    try:
        await flood_until(server, lambda: server.delivery.connected_clients()[kind] == 0)
        texts, code, reason = await asyncio.wait_for(read_frames(slow), 15)
        if kind == "ws":
            assert code == 4008 and reason.startswith("slow_consumer: more than 20 events"), (
                code,
                reason,
            )
            error = orjson.loads(texts[-1])
            assert error["type"] == "events:stream:v1:error"
            assert error["payload"]["error"] == "slow_consumer"
        else:
            notice = b'42["herald:disconnect",{"reason":"slow_consumer"'
            at = [i for i, t in enumerate(texts) if t.startswith(notice)]
            assert at and b"41" in texts[at[0] + 1 :], texts[-3:]
        assert await released_within(server, slow.sock, 5) < 5
    finally:
        slow.close()


@pytest.mark.parametrize("connect", WS_CLIENTS)
async def test_websocket_that_never_reads_again_is_let_go(server: Server, connect: Connect) -> None:
    slow = await connect(server)
    try:
        kind = transport_of(connect)
        await flood_until(server, lambda: server.delivery.connected_clients()[kind] == 0)
        assert established(*ports(server, slow.sock))
        waited = await released_within(server, slow.sock, 6)
        assert waited < 4, f"held for {waited:.1f}s after the cut"
    finally:
        slow.close()


async def test_sse_reader_gets_the_error_event_then_the_socket_goes(server: Server) -> None:
    client = RawSse(server)
    try:
        await client.open()
        await wait_for(lambda: server.delivery.hub.group_count == 1)
        await flood_until(server, lambda: sse_cut(server))
        data = await asyncio.wait_for(client.read_all(), 15)
        tail = data[-2000:]
        assert b"event: error" in tail and b'"error":"slow_consumer"' in tail, tail[-300:]
        assert await released_within(server, client.sock, 5) < 5
    finally:
        client.sock.close()


async def test_sse_that_never_reads_again_is_let_go(server: Server) -> None:
    client = RawSse(server)
    try:
        await client.open()
        await wait_for(lambda: server.delivery.hub.group_count == 1)
        await flood_until(server, lambda: sse_cut(server))
        assert established(*ports(server, client.sock))
        waited = await released_within(server, client.sock, 6)
        assert waited < 4, f"held for {waited:.1f}s after the cut"
    finally:
        client.sock.close()

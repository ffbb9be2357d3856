"""A slow client's backlog sends higher priority first, and its resume point stays safe.

The clients are raw sockets with a tiny receive buffer that stop reading (as in the
slow-release tests) until a backlog has built up on the server; then an urgent event is
appended, and the client reads everything. The urgent event must arrive ahead of the
events that were waiting, marked ``overtook``, and every unmarked event's offset must be
a point from which resuming loses nothing.
"""

from __future__ import annotations

import asyncio
import re
import socket
import struct
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from delivery_helpers import Server, StalledWebSocket, append, running_server, tweet, wait_for

from herald.delivery import sse
from herald.delivery.backlog import Backlog
from herald.delivery.entry import offset_key
from herald.events import DEFAULT_PRIORITY, Event, EventType, Priority, priority_of
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(90)

BIG = "x" * 20_000


@pytest.fixture
async def server(external_redis: aioredis.Redis, keys: Keys) -> AsyncIterator[Server]:
    async with running_server(
        external_redis, keys, client_queue=5000, heartbeat_interval=60
    ) as srv:
        yield srv


def low(n: int) -> Event:
    event = tweet(n, text=BIG)
    event.priority = Priority.LOW
    return event


def urgent(n: int) -> Event:
    return Event(EventType.ALERT_FIRING, "alerts", "", f"fp{n}", {"channel": "ops"})


async def fill(server: Server, depth: Callable[[], int], at_least: int = 8) -> list[str]:
    """Append big low-priority events until ``at_least`` wait in the client's backlog."""
    offsets: list[str] = []
    for batch in range(300):
        new = await append(server.redis, server.keys, [low(batch * 10 + i) for i in range(10)])
        offsets += new
        last = offset_key(new[-1])
        await wait_for(lambda last=last: server.delivery.tail.position >= last)
        if depth() >= at_least:
            return offsets
    raise AssertionError("no backlog built up")


async def text_frame(slow: StalledWebSocket) -> bytes | None:
    """The next frame's payload (``None`` for a control frame such as a ping)."""
    b0, b1 = await slow._exactly(2)
    n = b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await slow._exactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await slow._exactly(8))
    payload = await slow._exactly(n)
    return payload if b0 & 0x0F == 0x1 else None


def ws_body(data: bytes) -> dict[str, Any] | None:
    msg = orjson.loads(data)
    return msg["payload"] if msg["type"] == "events:stream:v1:stream" else None


def sio_body(data: bytes) -> dict[str, Any] | None:
    if not data.startswith(b"42"):
        return None  # the Engine.IO open packet, the CONNECT, pings
    packet = orjson.loads(data[2:])
    body: dict[str, Any] = packet[1]
    if body.get("overtook"):
        assert len(packet) == 2, "an event that overtook carries no recovery offset"
    return body


async def read_events(
    slow: StalledWebSocket, count: int, parse: Callable[[bytes], dict[str, Any] | None]
) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while len(bodies) < count:
        data = await text_frame(slow)
        body = parse(data) if data is not None else None
        if body is not None:
            bodies.append(body)
    return bodies


def check(bodies: list[dict[str, Any]], lows: list[str], critical: str, waiting: int) -> None:
    offsets = [b["offset"] for b in bodies]
    assert sorted(offsets, key=offset_key) == sorted([*lows, critical], key=offset_key)
    at = offsets.index(critical)
    assert bodies[at]["priority"] == Priority.CRITICAL and bodies[at]["overtook"] is True
    overtaken = [o for o in offsets[at + 1 :] if offset_key(o) < offset_key(critical)]
    assert len(overtaken) >= max(waiting, 1), (len(overtaken), waiting)
    assert all(b["priority"] == Priority.LOW for b in bodies if b["offset"] != critical)
    # the resume point: after any prefix, everything up to its last unmarked offset arrived
    received: set[str] = set()
    resume = (0, 0)
    unmarked: list[tuple[int, int]] = []
    for body in bodies:
        received.add(body["offset"])
        if not body.get("overtook"):
            unmarked.append(offset_key(body["offset"]))
            resume = offset_key(body["offset"])
        missing = [o for o in lows if offset_key(o) <= resume and o not in received]
        assert not missing, f"resuming from {resume} would skip {missing[:3]}"
    assert unmarked == sorted(unmarked), "unmarked events are in offset order"


async def test_a_slow_ws_client_gets_the_urgent_event_first(server: Server) -> None:
    slow = StalledWebSocket(server.url, "/ws")
    await slow.open()
    request = {"type": "events:stream:v1:requested", "id": "s", "payload": {}}
    await slow.send_text(orjson.dumps(request).decode())
    await wait_for(lambda: server.delivery.hub.group_count == 1)

    def depth() -> int:
        return sum(len(c.outbox) for c in server.delivery.ctx.ws_connections)

    try:
        lows = await fill(server, depth)
        [critical] = await append(server.redis, server.keys, [urgent(1)])
        await wait_for(lambda: server.delivery.tail.position >= offset_key(critical))
        waiting = depth() - 1  # what waited beside it (fewer if some went out meanwhile)
        bodies = await read_events(slow, len(lows) + 1, ws_body)
    finally:
        slow.close()
    check(bodies, lows, critical, waiting)


async def test_a_slow_socketio_client_gets_the_urgent_event_first(server: Server) -> None:
    slow = StalledWebSocket(server.url, "/socket.io/?EIO=4&transport=websocket")
    await slow.open()
    await slow.send_text("40")
    await wait_for(lambda: server.delivery.connected_clients()["socketio"] == 1)

    def depth() -> int:
        return sum(len(c.backlog) for c in server.delivery.socketio.clients.values())

    try:
        lows = await fill(server, depth)
        [critical] = await append(server.redis, server.keys, [urgent(1)])
        await wait_for(lambda: server.delivery.tail.position >= offset_key(critical))
        waiting = depth() - 1  # what waited beside it (fewer if some went out meanwhile)
        bodies = await read_events(slow, len(lows) + 1, sio_body)
    finally:
        slow.close()
    check(bodies, lows, critical, waiting)


async def test_a_slow_sse_client_gets_the_urgent_event_first(server: Server) -> None:
    port = int(server.url.rsplit(":", 1)[1])
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, b"GET /api/events HTTP/1.1\r\nHost: herald\r\n\r\n")
    await wait_for(lambda: server.delivery.hub.group_count == 1)

    def depth() -> int:
        return sum(len(s.outbox) for s in server.delivery.ctx.sse_streams)

    frames: list[tuple[bytes | None, dict[str, Any]]] = []
    try:
        # more than one chunk's worth (sse.BATCH) waits: the urgent event overtakes the rest
        lows = await fill(server, depth, at_least=2 * sse.BATCH)
        [critical] = await append(server.redis, server.keys, [urgent(1)])
        await wait_for(lambda: server.delivery.tail.position >= offset_key(critical))
        waiting = depth() - 1
        data = b""
        while len(frames) < len(lows) + 1:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 65536), 20)
            assert chunk, "the response ended"
            data += chunk
            frames = [
                (ident or None, orjson.loads(body)) for ident, body in SSE_EVENT.findall(data)
            ]
    finally:
        sock.close()
    for ident, body in frames:
        # an event that overtook has no id: line, so Last-Event-ID does not move past others
        assert ident == (None if body.get("overtook") else body["offset"].encode())
    check([body for _, body in frames], lows, critical, waiting)


SSE_EVENT = re.compile(
    rb"(?<=\n)(?:id: ([^\n]*)\n)?event: (?:stream|alert):[^\n]*\ndata: (\{[^\n]*\})\n\n"
)


def test_backlog_order_barriers_and_overtaking() -> None:
    backlog: Backlog[str] = Backlog()
    for item, priority in (("a0", 0), ("b1", 1), ("ack", None), ("c0", 0), ("d3", 3), ("e0", 0)):
        backlog.append(item, priority)
    out = [backlog.pop() for _ in range(len(backlog))]
    # nothing crosses the barrier; after it the critical one goes first, marked
    assert out == [
        ("b1", True),
        ("a0", False),
        ("ack", False),
        ("d3", True),
        ("c0", False),
        ("e0", False),
    ]
    backlog.append("x", 0)
    backlog.clear()
    backlog.append("y", 2)
    assert backlog.pop() == ("y", False), "a cleared backlog starts a new order"


def test_every_type_has_a_default_priority_and_a_rule_may_override() -> None:
    assert set(DEFAULT_PRIORITY) == set(EventType)
    assert DEFAULT_PRIORITY[EventType.ALERT_FIRING] == Priority.CRITICAL
    assert DEFAULT_PRIORITY[EventType.ERROR] > DEFAULT_PRIORITY[EventType.TWEET_NEW]
    assert DEFAULT_PRIORITY[EventType.TWEET_METRICS] == Priority.LOW
    for event_type in EventType:
        body = Event(event_type, "s1", "a", "1").body()
        assert body["priority"] == DEFAULT_PRIORITY[event_type]
        assert "correlationId" not in body
    own = Event(EventType.ALERT_FIRING, "s1", "a", "1", priority=1, correlation_id="fp1")
    assert own.body()["priority"] == 1 and own.body()["correlationId"] == "fp1"
    # bodies from before priorities existed, and junk, fall back to the type's default
    assert priority_of({"type": "stream:error"}) == Priority.HIGH
    assert priority_of({"type": "stream:error", "priority": 9}) == Priority.HIGH
    assert priority_of({"type": "stream:error", "priority": True}) == Priority.HIGH
    assert priority_of({"type": "made:up"}) == Priority.NORMAL
    assert priority_of({}) == Priority.NORMAL

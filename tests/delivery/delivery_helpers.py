"""A real server for delivery tests: FastAPI + Delivery on uvicorn, on a free loopback port."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
import uvicorn
from fastapi import FastAPI

from herald.auth import Authenticator
from herald.config import Settings
from herald.delivery import Delivery
from herald.delivery.direct import uvicorn_options
from herald.events import Event, EventType
from herald.store.keys import Keys


def tweet(
    n: int,
    stream_id: str = "s1",
    *,
    text: str | None = None,
    author: str = "alice",
    lang: str = "en",
    is_retweet: bool = False,
    is_reply: bool = False,
    event_type: EventType = EventType.TWEET_NEW,
) -> Event:
    item = {
        "id": str(n),
        "text": text if text is not None else f"tweet number {n}",
        "author": author,
        "authorName": author.title(),
        "timestamp": "2026-01-01T00:00:00Z",
        "url": f"https://x.com/{author}/status/{n}",
        "isRetweet": is_retweet,
        "isReply": is_reply,
        "lang": lang,
    }
    key = "mention" if event_type is EventType.MENTION_NEW else "tweet"
    return Event(event_type, stream_id, author, str(n), {key: item})


async def append(
    redis: aioredis.Redis, keys: Keys, events: list[Event], maxlen: int | None = None
) -> list[str]:
    """XADD events to the global log the way the engine does; returns their offsets."""
    pipe = redis.pipeline(transaction=False)
    for ev in events:
        fields: Any = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
        pipe.xadd(keys.events, fields, maxlen=maxlen, approximate=False)
    return [o.decode() for o in await pipe.execute()]


async def append_n(
    redis: aioredis.Redis, keys: Keys, n: int, stream_id: str = "s1", start: int = 0
) -> list[str]:
    return await append(redis, keys, [tweet(start + i, stream_id) for i in range(n)])


class StalledWebSocket:
    """A WebSocket client that sends what it is told and never reads anything.

    Client libraries keep reading in the background; this one does the handshake by hand on
    a socket with a tiny receive buffer (loopback TCP autotuning would otherwise absorb tens
    of megabytes before the server noticed anything).
    """

    def __init__(self, url: str, path: str) -> None:
        host, port = url.split("://", 1)[1].split(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        self.host, self.port, self.path = host, int(port), path

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        self.sock.setblocking(False)
        await loop.sock_connect(self.sock, (self.host, self.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        await loop.sock_sendall(self.sock, request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += await loop.sock_recv(self.sock, 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    async def send_text(self, text: str) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        n = len(payload)
        header = bytes([0x81]) + (
            bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        )
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        await asyncio.get_running_loop().sock_sendall(self.sock, header + mask + body)

    async def _exactly(self, n: int) -> bytes:
        loop = asyncio.get_running_loop()
        data = b""
        while len(data) < n:
            chunk = await loop.sock_recv(self.sock, n - len(data))
            if not chunk:
                raise ConnectionError("connection closed before the close frame")
            data += chunk
        return data

    async def read_until_close(self) -> tuple[int, str]:
        """Read (and drop) frames until the server's close frame; its code and reason."""
        while True:
            b0, b1 = await self._exactly(2)
            n = b1 & 0x7F
            if n == 126:
                (n,) = struct.unpack("!H", await self._exactly(2))
            elif n == 127:
                (n,) = struct.unpack("!Q", await self._exactly(8))
            payload = await self._exactly(n)
            if b0 & 0x0F == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if n >= 2 else 1005
                return code, payload[2:].decode()

    def close(self) -> None:
        self.sock.close()


@dataclass
class Server:
    url: str
    delivery: Delivery
    redis: aioredis.Redis
    keys: Keys
    #: Whether frames go straight to sockets (herald's uvicorn protocol) or via ASGI send.
    direct_writes: bool = True

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://") + "/ws"


@contextlib.asynccontextmanager
async def running_server(
    redis: aioredis.Redis,
    keys: Keys,
    *,
    auth: Authenticator | None = None,
    port: int = 0,
    direct_writes: bool = True,
    **overrides: Any,
) -> AsyncIterator[Server]:
    """``direct_writes=False`` runs uvicorn's stock WebSocket protocol: the ASGI-send path."""
    settings = Settings(redis_prefix=keys.prefix, **overrides)
    delivery = Delivery(settings, redis, keys, auth)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await delivery.start()
        yield
        await delivery.stop()

    app = FastAPI(lifespan=lifespan)
    delivery.install(app)
    options = uvicorn_options() if direct_writes else {"ws": "websockets-sansio"}
    options["timeout_graceful_shutdown"] = 2
    config = uvicorn.Config(
        delivery.wrap(app),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **options,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started or task.done():
            break
        await asyncio.sleep(0.01)
    if task.done():
        task.result()
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Server(f"http://127.0.0.1:{port}", delivery, redis, keys, direct_writes)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)


async def wait_for(predicate: Any, timeout: float = 10.0, interval: float = 0.02) -> None:
    """Poll ``predicate`` until it is true; fail the test with a timeout otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(interval)


async def sentinel(
    redis: aioredis.Redis, keys: Keys, got: list[dict[str, Any]], stream_id: str = "s1"
) -> str:
    """Append one more event the client will receive and wait until it has arrived.

    One connection delivers in log order, so by then anything the server sent before it
    (a duplicate, an event a filter should have held back) has arrived too: the test can
    assert "nothing more" without sleeping. Returns the sentinel's offset.
    """
    (offset,) = await append(redis, keys, [tweet(999_999, stream_id)])
    await wait_for(lambda: any(e.get("offset") == offset for e in got))
    return offset

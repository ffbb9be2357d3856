"""A :class:`~herald.push.memory.MemoryFeed` served over a real WebSocket, and its source.

The in-memory twin cannot cross processes; this can. :func:`serve_feed` serves a feed at
``ws://127.0.0.1:{port}/?cursor=N`` (every frame after ``seq`` N, then new ones as they are
published; ``?since=T``: from the first item published at or after epoch T; neither: from
now), the way Jetstream replays from ``time_us``.
:class:`FeedSocketSource` is the push source that reads it in another process (``herald
worker`` with it as a source), decoding with :func:`~herald.push.memory.decode_feed`. Tests
and the chaos suite kill the owners of such connections and count what reached the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from herald.push.base import ConnectionPlan, Decoded, Frame, PushStream
from herald.push.memory import MemoryFeed, decode_feed
from herald.push.wsconn import WebSocketConnection, open_websocket


@contextlib.asynccontextmanager
async def serve_feed(feed: MemoryFeed, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve ``feed`` for the length of the block; yields its ``ws://`` URL."""
    clients: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        clients.add(ws)
        try:
            query = parse_qs(urlsplit(ws.request.path if ws.request else "/").query)
            cursor = query.get("cursor", [None])[0]
            since = query.get("since", [None])[0]
            index = feed.start_index(cursor, float(since) if since else None)
            while True:
                data = feed.frame_at(index)
                if data is None:
                    await _either(feed.wait(index), ws.wait_closed())
                    if ws.state is not State.OPEN:
                        return
                    continue
                index = max(index, feed.trimmed) + 1
                await ws.send(data.decode())
        except ConnectionClosed:
            return
        finally:
            clients.discard(ws)

    async with serve(handler, host, 0, compression=None) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        try:
            yield f"ws://{host}:{port}/"
        finally:
            for ws in list(clients):
                await ws.close()


async def _either(*waits: Coroutine[Any, Any, None]) -> None:
    """Until the first of ``waits`` is done (a new frame, or the client gone)."""
    tasks = [asyncio.ensure_future(w) for w in waits]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()


class FeedSocketSource:
    """Reads a served feed (module docstring). Its streams share one connection per
    ``options.connection`` (``main`` by default), like :class:`MemoryPushSource`'s."""

    def __init__(
        self, url: str, *, stream_types: tuple[str, ...], plan: ConnectionPlan | None = None
    ) -> None:
        self.url = url
        self.stream_types = stream_types
        self.connection_plan = plan or ConnectionPlan(idle_timeout=60.0, ping_interval=10.0)

    def connection_key(self, stream: PushStream) -> str:
        return f"feed:{stream.options.get('connection', 'main')}"

    def plan(self, key: str, streams: Sequence[PushStream]) -> ConnectionPlan:
        return self.connection_plan

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> WebSocketConnection:
        if cursor:
            url = f"{self.url}?cursor={cursor}"
        else:  # a first connect: from when the oldest stream started, not from "now"
            since = min((s.created_at for s in streams), default=time.time())
            url = f"{self.url}?since={since!r}"
        plan = self.connection_plan
        return await open_websocket(
            url,
            max_frame_bytes=plan.max_frame_bytes,
            ping_interval=plan.ping_interval,
            updater=_in_place,
        )

    async def decode(
        self, key: str, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
    ) -> Decoded:
        return decode_feed(frames, streams, cursor)

    async def aclose(self) -> None:
        return None


async def _in_place(conn: WebSocketConnection, streams: Sequence[PushStream]) -> bool:
    """The feed sends every topic: a new stream set needs no message upstream."""
    return True

"""A client's bounded backlog of frames, shared by the WebSocket and SSE transports.

Live delivery never waits: :meth:`Outbox.push` either queues the frame or reports that the
client is more than ``limit`` frames behind, and the transport then cuts the client off.
The replay path does wait (:meth:`Outbox.put`), so a long replay is paced by the client
instead of filling memory.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

from herald.delivery.hub import ClientGone

T = TypeVar("T")


class Outbox(Generic[T]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: deque[T] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def push(self, frame: T) -> bool:
        """Queue ``frame``; ``False`` when the backlog is full (the client is too slow)."""
        if self.closed:
            return True
        if len(self._items) >= self.limit:
            return False
        self._items.append(frame)
        self._ready.set()
        return True

    async def put(self, frame: T) -> None:
        """Queue ``frame`` once the backlog is at most half full."""
        while len(self._items) > self.limit // 2:
            if self.closed:
                raise ClientGone
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise ClientGone
        self._items.append(frame)
        self._ready.set()

    async def get(self) -> list[T]:
        """Wait for frames and take them all (the sender writes them back to back)."""
        while not self._items:
            if self.closed:
                raise ClientGone
            self._ready.clear()
            await self._ready.wait()
        items = list(self._items)
        self._items.clear()
        self._room.set()
        return items

    def close(self) -> None:
        """Drop the backlog (memory is freed now) and wake every waiter."""
        self.closed = True
        self._items.clear()
        self._ready.set()
        self._room.set()

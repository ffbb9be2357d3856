"""A client's bounded backlog of frames, shared by the WebSocket and SSE transports.

Live delivery never waits: :meth:`Outbox.push` either queues the frame or reports that the
client is more than ``limit`` frames behind, and the transport then cuts the client off.
The replay path does wait (:meth:`Outbox.put`), so a long replay is paced by the client
instead of filling memory.

What waits is handed out highest priority first (:class:`~herald.delivery.backlog.Backlog`):
a frame pushed with a ``priority`` is an event, one without is a control message that
nothing overtakes. An event that overtakes an older one goes out in its ``overtaking`` form.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Generic, TypeVar

from herald.delivery.backlog import Backlog
from herald.delivery.hub import ClientGone

T = TypeVar("T")


class Outbox(Generic[T]):
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: Backlog[tuple[T, Callable[[], T] | None]] = Backlog()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.closed = False

    def __len__(self) -> int:
        return len(self._items)

    def push(
        self,
        frame: T,
        priority: int | None = None,
        overtaking: Callable[[], T] | None = None,
    ) -> bool:
        """Queue ``frame``; ``False`` when the backlog is full (the client is too slow).

        ``priority``: an event's (``None``: a control message); ``overtaking`` builds the
        frame as sent when it goes out ahead of an older one."""
        if self.closed:
            return True
        if len(self._items) >= self.limit:
            return False
        self._items.append((frame, overtaking), priority)
        self._ready.set()
        return True

    async def put(
        self,
        frame: T,
        priority: int | None = None,
        overtaking: Callable[[], T] | None = None,
    ) -> None:
        """Queue ``frame`` once the backlog is at most half full."""
        while len(self._items) > self.limit // 2:
            if self.closed:
                raise ClientGone
            self._room.clear()
            await self._room.wait()
        if self.closed:
            raise ClientGone
        self._items.append((frame, overtaking), priority)
        self._ready.set()

    async def get(self, most: int | None = None) -> list[T]:
        """Wait for frames and take them, at most ``most`` (the sender writes them back to
        back; a sender that takes few at a time lets later urgent ones go first)."""
        while not self._items:
            if self.closed:
                raise ClientGone
            self._ready.clear()
            await self._ready.wait()
        items: list[T] = []
        while self._items and (most is None or len(items) < most):
            (frame, overtaking), overtook = self._items.pop()
            items.append(overtaking() if overtook and overtaking is not None else frame)
        if len(self._items) <= self.limit // 2:
            self._room.set()
        return items

    def close(self) -> None:
        """Drop the backlog (memory is freed now) and wake every waiter."""
        self.closed = True
        self._items.clear()
        self._ready.set()
        self._room.set()

"""Clocks for the time-based operators of streams: a real one and a virtual one for tests.

Operators never read wall time implicitly; a stream is handed a clock, so a test can move
time forward with :meth:`VirtualClock.advance` and see a batch time out or a debounce fire
without sleeping.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    """What a stream needs to know about time: now, and how to wait until a moment."""

    def now(self) -> float: ...

    async def sleep_until(self, when: float) -> None: ...


class SystemClock:
    """Wall time (epoch seconds) and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.time()

    async def sleep_until(self, when: float) -> None:
        delay = when - time.time()
        if delay > 0:
            await asyncio.sleep(delay)


class VirtualClock:
    """Time that moves only when a test moves it; sleepers wake when it passes their moment."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep_until(self, when: float) -> None:
        if when <= self._now:
            await asyncio.sleep(0)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (when, next(self._seq), future))
        await future

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` and wake every sleeper whose moment has come."""
        if seconds < 0:
            raise ValueError("a clock cannot go back")
        self.set(self._now + seconds)

    def set(self, when: float) -> None:
        """Move time to ``when`` (never backwards)."""
        if when < self._now:
            raise ValueError("a clock cannot go back")
        self._now = when
        while self._sleepers and self._sleepers[0][0] <= when:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    @property
    def next_wake(self) -> float | None:
        """The earliest moment a pending wait is for (tests wait for a stream to park)."""
        pending = [when for when, _, f in self._sleepers if not f.done()]
        return min(pending) if pending else None

    @property
    def sleepers(self) -> int:
        """How many waits are pending (tests wait for a stream to be parked on the clock)."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

"""One client connection to the stand-in: the replay of the recording at the chosen pace,
the answers to what the client sends, and the faults, all through one sender so frames
never interleave. The send queue is bounded: a slow client slows the replay (TCP pushes
back), as a real upstream's buffer would before it gave up."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Any

from starlette.websockets import WebSocket

from herald.testing.fakews.dialects import BINANCE_MAX_MESSAGES, Dialect
from herald.testing.fakews.faults import BINARY, GARBAGE, Fault, oversized
from herald.testing.fakews.recording import Recorded
from herald.testing.fakews.service import FakeWs

QUEUE = 256
"""Frames waiting to go out on one connection."""


class _Stop(Exception):
    """The session ends (a fault closed it, or the client broke a rule)."""


class Session:
    def __init__(self, fake: FakeWs, ws: WebSocket, dialect: Dialect) -> None:
        self.fake = fake
        self.ws = ws
        self.dialect = dialect
        self.queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(QUEUE)
        self.sent = 0
        self.opened = time.time()
        self._wake = asyncio.Event()
        self._recent: deque[float] = deque(maxlen=BINANCE_MAX_MESSAGES + 1)

    def wake(self) -> None:
        self._wake.set()

    def inject(self, frames: list[str]) -> None:
        for frame in frames:
            try:
                self.queue.put_nowait(("inject", frame))
            except asyncio.QueueFull:
                self.fake.counts["injectDropped"] += 1

    def describe(self) -> dict[str, Any]:
        return {
            "path": self.ws.url.path,
            "subscription": self.dialect.describe(),
            "sent": self.sent,
            "openedAt": self.opened,
        }

    async def run(self) -> None:
        tasks = [
            asyncio.create_task(self._read()),
            asyncio.create_task(self._send()),
            asyncio.create_task(self._replay()),
        ]
        try:
            await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, or less when the replay is restarted (the pace of the replay itself)."""
        self._wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)

    async def _read(self) -> None:
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None:
                text = (message.get("bytes") or b"").decode("utf-8", "replace")
            self.fake.counts["messages"] += 1
            self.fake.messages.append(text[:65536])
            replies, close = self.dialect.answer(text)
            if self.dialect.name == "binance":
                now = time.monotonic()
                self._recent.append(now)
                if len(self._recent) > BINANCE_MAX_MESSAGES and now - self._recent[0] < 1.0:
                    close = f"too many messages: over {BINANCE_MAX_MESSAGES} per second"
            for reply in replies:
                await self.queue.put(("reply", reply))
            if close is not None:
                await self.queue.put(("close", close))
            self.wake()

    async def _replay(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            generation = self.fake.generation
            while not self.dialect.started:
                self._wake.clear()
                await self._wake.wait()
            start = loop.time()
            for frame in self.fake.recording.frames:
                speed = self.fake.speed
                if speed:
                    delay = start + frame.at / speed - loop.time()
                    if delay > 0:
                        await self._sleep(delay)
                if self.fake.generation != generation:
                    break
                if self.dialect.wants(frame):
                    await self.queue.put(("frame", frame))
            else:
                if not self.fake.loop:
                    while self.fake.generation == generation:
                        self._wake.clear()
                        await self._wake.wait()
            self.fake.counts["replays"] += 1

    async def _send(self) -> None:
        with contextlib.suppress(_Stop):
            while True:
                what, item = await self.queue.get()
                if what == "close":
                    await self.ws.close(1008, str(item)[:120])
                    return
                if what == "frame":
                    await self._frame(item)
                    continue
                await self.ws.send_text(item)
                self.fake.counts["replies" if what == "reply" else "injected"] += 1

    async def _frame(self, frame: Recorded) -> None:
        fault = self.fake.faults.take(self.sent, frame.kind)
        if fault is not None and not await self._fault(fault):
            self.fake.counts["skipped"] += 1
            return
        await self.ws.send_text(frame.text)
        self.sent += 1
        self.fake.counts["frames"] += 1
        self.fake.kinds[frame.kind] += 1

    async def _fault(self, fault: Fault) -> bool:
        """Apply ``fault`` before a frame; False: do not send the frame."""
        if fault.mode == "drop":
            await self.ws.close(1011, "fakews: connection dropped")
            raise _Stop
        if fault.mode == "close":
            await self.ws.close(fault.code, "fakews: closed")
            raise _Stop
        if fault.mode == "stall":
            await self._sleep(fault.seconds)
        elif fault.mode == "garbage":
            await self.ws.send_text(GARBAGE)
        elif fault.mode == "binary":
            await self.ws.send_bytes(BINARY)
        elif fault.mode == "oversized":
            await self.ws.send_text(oversized(fault.bytes))
        return fault.mode != "skip"

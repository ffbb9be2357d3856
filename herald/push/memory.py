"""An in-process push upstream and its source: the push runtime's twin of a real platform.

:class:`MemoryFeed` is an upstream that numbers what it publishes (``seq`` 1, 2, ...) and
replays from a cursor, as Jetstream replays from ``time_us`` and exchanges from sequence
numbers; it can forget old items (``keep``), so a resume from a cursor it no longer holds
is a sequence jump, which :func:`decode_feed` reports as a gap. :class:`MemoryPushSource`
is a :class:`~herald.push.base.PushSource` over it whose connections are fed in process,
with the faults the runtime must survive: failed connects, dropped connections, stalls,
garbage frames, slow decoding.

A frame is ``{"seq", "time", "target", "text"}``; a stream of the source's type receives the
items published to its target (``*`` receives them all) at or after it joined.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import orjson

from herald.errors import SourceError
from herald.events import EventType
from herald.push.base import (
    ConnectionPlan,
    Decoded,
    Frame,
    FrameError,
    PushChange,
    PushStream,
)
from herald.push.wsconn import PushConnectionError
from herald.sources.base import Gap


class MemoryFeed:
    """The upstream: an append-only list of frames numbered by ``seq``."""

    def __init__(self, *, keep: int | None = None) -> None:
        self.keep = keep
        self._seqs: list[int] = []
        self._times: list[float] = []
        self._frames: list[bytes] = []
        self.trimmed = 0
        """Frames forgotten from the front (``keep``): absolute index = trimmed + local."""
        self.last_seq = 0
        self._wakeup = asyncio.Event()

    def publish(self, target: str, text: str = "", *, at: float | None = None) -> int:
        """One item; returns its ``seq``."""
        self.last_seq += 1
        when = at or time.time()
        item = {"seq": self.last_seq, "time": when, "target": target, "text": text}
        self._add(self.last_seq, orjson.dumps(item), when)
        return self.last_seq

    def publish_raw(self, data: bytes) -> None:
        """A frame that is not an item (garbage, an oversized blob); it takes no ``seq``."""
        self._add(self.last_seq, data, self._times[-1] if self._times else 0.0)

    def _add(self, seq: int, data: bytes, when: float) -> None:
        self._seqs.append(seq)
        self._times.append(max(when, self._times[-1]) if self._times else when)
        self._frames.append(data)
        if self.keep is not None and len(self._frames) > self.keep:
            cut = len(self._frames) - self.keep
            del self._seqs[:cut], self._times[:cut], self._frames[:cut]
            self.trimmed += cut
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def start_index(self, cursor: str | None, since: float | None = None) -> int:
        """Where a connection resuming from ``cursor`` starts; without one, at the first
        item published at or after ``since`` (as Jetstream takes a time), else after the
        newest."""
        if cursor is not None:
            return self.trimmed + bisect.bisect_right(self._seqs, int(cursor))
        if since is not None:
            return self.trimmed + bisect.bisect_left(self._times, since)
        return self.trimmed + len(self._frames)

    def frame_at(self, index: int) -> bytes | None:
        """The frame at absolute ``index``; the oldest kept one if it was forgotten."""
        local = max(index - self.trimmed, 0)
        return self._frames[local] if local < len(self._frames) else None

    async def wait(self, index: int) -> None:
        """Until a frame exists at ``index`` (or something was published)."""
        if index - self.trimmed < len(self._frames):
            return
        await self._wakeup.wait()


class MemoryConnection:
    def __init__(self, source: MemoryPushSource, index: int, streams: Sequence[PushStream]) -> None:
        self._source = source
        self.index = index
        self.streams = list(streams)
        self.closed = False
        self.error: SourceError | None = None
        self._poke = asyncio.Event()

    async def recv(self) -> Frame:
        feed = self._source.feed
        while True:
            if self.error is not None:
                raise self.error
            if self.closed:
                raise PushConnectionError("closed", "the connection was closed")
            if not self._source.stalled:
                data = feed.frame_at(self.index)
                if data is not None:
                    self.index = max(self.index, feed.trimmed) + 1
                    self._source.frames_sent += 1
                    return Frame(data, time.time())
            poke = asyncio.ensure_future(self._poke.wait())
            waits: set[asyncio.Future[Any]] = {poke}
            if not self._source.stalled:
                waits.add(asyncio.ensure_future(feed.wait(self.index)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waits:
                    waiter.cancel()
            self._poke.clear()

    def fail(self, error: SourceError) -> None:
        self.error = error
        self._poke.set()

    def wake(self) -> None:
        self._poke.set()

    async def update(self, streams: Sequence[PushStream]) -> bool:
        self._source.updates += 1
        if self._source.update_in_place:
            self.streams = list(streams)
        return self._source.update_in_place

    async def aclose(self) -> None:
        self.closed = True
        self._poke.set()
        if self in self._source.connections:
            self._source.connections.remove(self)


def decode_feed(
    frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
) -> Decoded:
    """Items for the streams of their target; what ``cursor`` covers is skipped (replays
    are inclusive), a jump in ``seq`` is a gap, a frame that is no item a frame error."""
    last = int(cursor) if cursor else None
    by_target: defaultdict[str, list[PushStream]] = defaultdict(list)
    for stream in streams:
        by_target[stream.target].append(stream)
    out = Decoded()
    for frame in frames:
        try:
            item: dict[str, Any] = orjson.loads(frame.data)
            seq, at, target = int(item["seq"]), float(item["time"]), str(item["target"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            out.errors.append(FrameError("bad_frame", f"not a feed item: {frame.data[:40]!r}"))
            continue
        if last is not None and seq <= last:
            continue
        if last is not None and seq > last + 1:
            missed = seq - last - 1
            out.gaps.append((None, Gap(f"sequence jump from {last} to {seq}", missed=missed)))
        last = seq
        out.upstream_time = at
        for stream in (*by_target.get(target, ()), *by_target.get("*", ())):
            if at >= stream.created_at:
                message = {"id": str(seq), "data": item}
                out.changes.append(
                    PushChange(stream.id, EventType.MESSAGE_NEW, str(seq), {"message": message})
                )
    out.cursor = str(last) if last is not None else None
    return out


class MemoryPushSource:
    """A :class:`~herald.push.base.PushSource` over a :class:`MemoryFeed` (module docstring)."""

    def __init__(
        self,
        feed: MemoryFeed | None = None,
        *,
        stream_types: tuple[str, ...] = ("memory:feed",),
        plan: ConnectionPlan | None = None,
    ) -> None:
        self.stream_types = stream_types
        self.feed = feed or MemoryFeed()
        self.connection_plan = plan or ConnectionPlan(idle_timeout=3600.0, ping_interval=None)
        self.connections: list[MemoryConnection] = []
        self.connects = 0
        self.cursors: list[str | None] = []
        """The cursor of every connect, in order."""
        self.updates = 0
        self.update_in_place = True
        self.stalled = False
        self.decode_delay = 0.0
        self.frames_sent = 0
        self.decoded = 0
        self._connect_faults: list[SourceError] = []

    def connection_key(self, stream: PushStream) -> str:
        return f"memory:{stream.options.get('connection', 'main')}"

    def plan(self, key: str, streams: Sequence[PushStream]) -> ConnectionPlan:
        return self.connection_plan

    async def connect(
        self, key: str, streams: Sequence[PushStream], cursor: str | None
    ) -> MemoryConnection:
        self.connects += 1
        self.cursors.append(cursor)
        if self._connect_faults:
            raise self._connect_faults.pop(0)
        since = min((s.created_at for s in streams), default=None)
        conn = MemoryConnection(self, self.feed.start_index(cursor, since), streams)
        self.connections.append(conn)
        return conn

    async def decode(
        self, key: str, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
    ) -> Decoded:
        if self.decode_delay:
            await asyncio.sleep(self.decode_delay)  # a slow consumer, for backpressure
        self.decoded += len(frames)
        return decode_feed(frames, streams, cursor)

    # --- faults --------------------------------------------------------------------
    def fail_connects(self, error: SourceError, times: int = 1) -> None:
        self._connect_faults.extend([error] * times)

    def drop(self) -> None:
        """Every open connection fails as a dropped socket does."""
        for conn in list(self.connections):
            conn.fail(PushConnectionError("closed", "the upstream dropped the connection"))

    def stall(self, stalled: bool = True) -> None:
        self.stalled = stalled
        for conn in self.connections:
            conn.wake()

    async def aclose(self) -> None:
        for conn in list(self.connections):
            await conn.aclose()

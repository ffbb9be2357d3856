"""batch, rate_limit, throttle, debounce: driven by the records' time in a pipeline and by a
virtual clock in a stream, never by sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from herald.pipeline import Flow, Pipeline, Stream, VirtualClock
from tests.pipeline.pipeline_support import keys, rec, values
from tests.waiting import wait_until


class Feed:
    """An async source the test pushes into; ``close()`` ends it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[Any] = asyncio.Queue()

    def put(self, *items: Any) -> None:
        for item in items:
            self.queue.put_nowait(item)

    def close(self) -> None:
        self.queue.put_nowait(StopAsyncIteration)

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._run()

    async def _run(self) -> AsyncIterator[Any]:
        while (item := await self.queue.get()) is not StopAsyncIteration:
            yield item


class Collector:
    def __init__(self, stream: Stream) -> None:
        self.got: list[Any] = []
        self.task = asyncio.ensure_future(self._run(stream))

    async def _run(self, stream: Stream) -> None:
        async for value in stream:
            self.got.append(value)

    async def has(self, expected: list[Any], what: str) -> None:
        await wait_until(lambda: self.got == expected, timeout=10, what=what)

    async def stop(self) -> None:
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


# --- batch ------------------------------------------------------------------------
async def test_batch_releases_at_size_and_after_timeout_in_a_pipeline() -> None:
    p = Pipeline("b", Flow().map(lambda e: e["n"]).batch(3, timeout=10))
    out = await p.process([rec(i, float(i), n=i) for i in range(5)], None)
    assert values(out) == [{"value": [0, 1, 2]}]
    assert keys(out) == ["b:0-0+3"]
    # [3, 4] waits: its first arrived at 3; the records' time reaches 13 at offset 9.
    assert await p.process([], 12.0) == []
    out = await p.process([], 13.0)
    assert values(out) == [{"value": [3, 4]}]
    assert out[0].time == 4.0


async def test_batch_timeout_in_a_stream_fires_on_the_virtual_clock() -> None:
    clock = VirtualClock(1000.0)
    feed = Feed()
    got = Collector(Stream(feed, clock=clock).batch(3, timeout=5))
    try:
        feed.put("a", "b", "c", "d")
        await got.has([["a", "b", "c"]], "the full batch")
        await wait_until(lambda: clock.next_wake == 1005.0, what="the stream waits on the clock")
        clock.advance(4.9)
        feed.put("e")
        await wait_until(feed.queue.empty, what="e is read")
        await wait_until(lambda: clock.next_wake == 1005.0, what="the stream waits again")
        assert got.got == [["a", "b", "c"]]
        clock.advance(0.1)
        await got.has([["a", "b", "c"], ["d", "e"]], "the timed-out batch")
        feed.put("f")
        feed.close()
        await got.has([["a", "b", "c"], ["d", "e"], ["f"]], "the rest at the end")
    finally:
        if not got.task.done():
            await got.stop()


def test_batch_refuses_nonsense() -> None:
    with pytest.raises(ValueError, match="size"):
        Flow().batch(0)
    with pytest.raises(ValueError, match="timeout"):
        Flow().batch(3, timeout=0)


# --- rate_limit -------------------------------------------------------------------
async def test_rate_limit_drop_lets_a_burst_then_the_rate_through() -> None:
    p = Pipeline("r", Flow().map(lambda e: e["n"]).rate_limit(2, burst=2, overflow="drop"))
    # 10 items 0.25 s apart: a burst of 2, then one every 0.5 s as tokens refill.
    batch = [rec(i, 100.0 + i / 4, n=i) for i in range(10)]
    out = await p.process(batch, None)
    assert [v["value"] for v in values(out)] == [0, 1, 2, 4, 6, 8]
    assert p.metrics()["1.rate_limit"]["dropped"] == 4


async def test_rate_limit_delay_holds_and_releases_as_tokens_refill() -> None:
    p = Pipeline("r", Flow().map(lambda e: e["n"]).rate_limit(1, burst=1))
    out = await p.process([rec(i, 10.0, n=i) for i in range(4)], None)
    assert [v["value"] for v in values(out)] == [0]
    out = await p.process([], 11.0)
    assert [v["value"] for v in values(out)] == [1]
    out = await p.process([], 13.0)
    assert [v["value"] for v in values(out)] == [2, 3]


async def test_rate_limit_in_a_stream_waits_on_the_clock() -> None:
    clock = VirtualClock(0.0)
    feed = Feed()
    got = Collector(Stream(feed, clock=clock).rate_limit(2, burst=1))
    try:
        feed.put(1, 2, 3)
        await got.has([1], "the first token")
        await wait_until(lambda: clock.next_wake == 0.5, what="the stream waits for a token")
        clock.advance(0.5)
        await got.has([1, 2], "the second after half a second")
        await wait_until(lambda: clock.next_wake == 1.0, what="the stream waits again")
        clock.advance(0.5)
        await got.has([1, 2, 3], "the third")
    finally:
        await got.stop()


# --- throttle / debounce -----------------------------------------------------------
async def test_throttle_passes_the_first_of_each_interval() -> None:
    p = Pipeline("t", Flow().map(lambda e: e["n"]).throttle(10))
    batch = [rec(i, t, n=i) for i, t in enumerate([0.0, 3.0, 9.9, 10.0, 15.0, 25.0])]
    out = await p.process(batch, None)
    assert [v["value"] for v in values(out)] == [0, 3, 5]
    assert p.metrics()["1.throttle"]["dropped"] == 3


async def test_debounce_emits_the_last_of_a_burst_per_key() -> None:
    flow = Flow().debounce(5, key=lambda e: e["k"]).map(lambda e: e["n"])
    p = Pipeline("d", flow)
    batch = [rec(1, 0.0, k="a", n=1), rec(2, 1.0, k="a", n=2), rec(3, 2.0, k="b", n=3)]
    assert await p.process(batch, None) == []
    out = await p.process([], 6.0)
    assert [v["value"] for v in values(out)] == [2]
    out = await p.process([rec(4, 6.5, k="a", n=4)], 7.0)
    assert [v["value"] for v in values(out)] == [3]
    out = await p.process([], 11.5)
    assert [v["value"] for v in values(out)] == [4]
    assert p.metrics()["0.debounce"]["dropped"] == 1


async def test_debounce_in_a_stream_fires_after_quiet_on_the_virtual_clock() -> None:
    clock = VirtualClock(0.0)
    feed = Feed()
    got = Collector(Stream(feed, clock=clock).debounce(2))
    try:
        feed.put("a")
        await wait_until(lambda: clock.next_wake == 2.0, what="parked until 2 s after a")
        clock.advance(1)
        feed.put("b")
        await wait_until(lambda: clock.next_wake == 3.0, what="parked until 2 s after b")
        clock.advance(1.5)
        assert got.got == []
        clock.advance(0.5)
        await got.has(["b"], "the last of the burst")
    finally:
        await got.stop()

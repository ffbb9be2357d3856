"""The async-iterator API: the same operators over any source, buffers, merge."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from herald.pipeline import (
    Agg,
    BufferOverflow,
    Output,
    Stream,
    Tumbling,
    VirtualClock,
    merge,
)
from tests.waiting import wait_until


async def test_map_filter_flat_map_over_a_plain_iterable() -> None:
    stream = (
        Stream(range(6)).filter(lambda n: n % 2).map(lambda n: n * 10).flat_map(lambda n: [n, -n])
    )
    assert [v async for v in stream] == [10, -10, 30, -30, 50, -50]


async def test_windows_by_event_time_with_late_items_and_the_end_closing_the_rest() -> None:
    events = [(1, "a"), (4, "b"), (12, "c"), (3, "late"), (25, "d"), (21, "e")]
    stream = (
        Stream(events, time_of=lambda e: e[0], lateness=5)
        .window(Tumbling(10))
        .aggregate(Agg.collect(lambda e: e[1]))
    )
    got = [(w["start"], w["value"]) async for w in stream]
    # Watermark = newest - 5: after 12 it is 7 (3 is then late); 25 closes [10, 20).
    assert got == [(0.0, ["a", "b"]), (10.0, ["c"]), (20.0, ["d", "e"])]
    assert list(stream.late) == [(3, "late")]


async def test_a_silent_source_freezes_its_windows() -> None:
    clock = VirtualClock(0.0)
    queue: asyncio.Queue[int] = asyncio.Queue()

    async def source() -> AsyncIterator[int]:
        while True:
            yield await queue.get()

    stream = (
        Stream(source(), clock=clock, time_of=float).window(Tumbling(10)).aggregate(Agg.count())
    )
    got: list[object] = []

    async def read() -> None:
        async for value in stream:
            got.append(value)

    task = asyncio.ensure_future(read())
    try:
        queue.put_nowait(1)
        queue.put_nowait(2)
        await wait_until(queue.empty, what="read")
        clock.advance(3600)  # an hour of silence: wall time moves, the watermark does not
        queue.put_nowait(11)
        await wait_until(lambda: got != [], what="the window closes on the next item")
        assert got == [{"key": "", "start": 0.0, "end": 10.0, "value": 2}]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_dead_letters_and_emitted_outputs() -> None:
    stream = Stream([1, 0, 2]).map(lambda n: 10 // n).emit("ratio")
    got = [v async for v in stream]
    assert all(isinstance(o, Output) for o in got)
    assert [o.data for o in got] == [{"value": 10}, {"value": 5}]
    assert [d.error for d in stream.dead_letters] == [
        "ZeroDivisionError: integer division or modulo by zero"
    ]
    assert stream.metrics()["0.map"]["errors"] == 1


async def test_stateful_running_average_per_key() -> None:
    def step(state: list[float], e: tuple[str, float]) -> tuple[list[float], float]:
        total, n = state[0] + e[1], state[1] + 1
        return [total, n], total / n

    stream = Stream([("a", 1.0), ("b", 10.0), ("a", 3.0)]).stateful(
        lambda e: e[0], step, initial=[0.0, 0]
    )
    assert [v async for v in stream] == [1.0, 10.0, 2.0]


class Gate:
    """A reader that takes one value only when let through."""

    def __init__(self, stream: Stream) -> None:
        self.got: list[object] = []
        self.allowed = asyncio.Semaphore(0)
        self.error: BaseException | None = None
        self.task = asyncio.ensure_future(self._run(stream))

    async def _run(self, stream: Stream) -> None:
        try:
            async for value in stream:
                self.got.append(value)
                await self.allowed.acquire()
        except BufferOverflow as exc:
            self.error = exc

    def allow(self, n: int) -> None:
        for _ in range(n):
            self.allowed.release()


class Feed:
    """A source the test pushes into, counting what the stream has taken from it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[int | None] = asyncio.Queue()
        self.taken = 0

    def put(self, *items: int | None) -> None:
        for item in items:
            self.queue.put_nowait(item)

    async def __aiter__(self) -> AsyncIterator[int]:
        while (item := await self.queue.get()) is not None:
            self.taken += 1
            yield item


def settled(stream: Stream, n: int) -> bool:
    """Every one of ``n`` values is taken, dropped or queued by the buffer."""
    m = stream.metrics().get("buffer", {})
    return m.get("out", 0) + m.get("dropped", 0) + m.get("depth", 0) == n


async def reader_holds_zero(feed: Feed, gate: Gate) -> None:
    feed.put(0)
    await wait_until(lambda: gate.got == [0], what="the reader holds 0")


@pytest.mark.parametrize(
    ("overflow", "expected"),
    [
        # The reader holds 0; 1..3 fill the buffer; 4..9 overflow it.
        ("drop_newest", [0, 1, 2, 3]),
        ("drop_oldest", [0, 7, 8, 9]),
    ],
)
async def test_buffer_drops_by_its_overflow_strategy(overflow: str, expected: list[int]) -> None:
    feed = Feed()
    stream = Stream(feed).buffer(3, overflow)  # type: ignore[arg-type]
    gate = Gate(stream)
    await reader_holds_zero(feed, gate)
    feed.put(*range(1, 10), None)
    await wait_until(lambda: settled(stream, 10), what="the buffer took all ten")
    gate.allow(10)
    await asyncio.wait_for(gate.task, 10)
    assert gate.got == expected
    metrics = stream.metrics()["buffer"]
    assert metrics["dropped"] == 6
    assert metrics["high_water"] == 3


async def test_buffer_backpressure_holds_the_producer() -> None:
    feed = Feed()
    stream = Stream(feed).buffer(3, "backpressure")
    gate = Gate(stream)
    await reader_holds_zero(feed, gate)
    feed.put(*range(1, 10), None)
    await wait_until(lambda: feed.taken == 5, what="the producer filled the buffer")
    for _ in range(20):  # it stays held: nothing more is taken while the reader waits
        await asyncio.sleep(0)
    assert feed.taken == 5  # 0 held by the reader, 1..3 queued, 4 waiting for room
    gate.allow(10)
    await asyncio.wait_for(gate.task, 10)
    assert gate.got == list(range(10))
    assert stream.metrics()["buffer"]["dropped"] == 0


async def test_buffer_fail_raises_to_the_reader() -> None:
    feed = Feed()
    gate = Gate(Stream(feed).buffer(2, "fail"))
    await reader_holds_zero(feed, gate)
    feed.put(*range(1, 10), None)
    await wait_until(lambda: feed.taken >= 4, what="the producer overflowed")
    gate.allow(10)
    await asyncio.wait_for(gate.task, 10)
    assert isinstance(gate.error, BufferOverflow)
    assert gate.got == [0, 1, 2]


async def test_merge_interleaves_and_ends_when_every_source_ends() -> None:
    fast = Stream(range(3)).map(lambda n: ("fast", n))
    got = [v async for v in merge(fast, [("list", 9)]).map(lambda v: v)]
    assert sorted(got) == [("fast", 0), ("fast", 1), ("fast", 2), ("list", 9)]


async def test_merge_passes_a_source_error_on() -> None:
    async def broken() -> AsyncIterator[int]:
        yield 1
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError, match="source broke"):
        _ = [v async for v in merge(broken(), range(3))]


async def test_fork_join_and_an_async_tee_in_a_stream() -> None:
    seen: list[int] = []

    async def sink(value: tuple[str, int]) -> None:
        seen.append(value[1])

    stream = (
        Stream([("a", 1), ("b", 2), ("a", 3), ("b", 14)], time_of=lambda v: float(v[1]))
        .tee(sink)
        .fork(
            odd=lambda f: f.filter(lambda v: v[1] % 2),
            even=lambda f: f.filter(lambda v: v[1] % 2 == 0),
        )
        .join(key=lambda v: "all", window=Tumbling(10))
    )
    got = [w async for w in stream]
    assert got == [
        {
            "key": "all",
            "start": 0.0,
            "end": 10.0,
            "value": {"odd": [("a", 1), ("a", 3)], "even": [("b", 2)]},
        }
    ]
    assert seen == [1, 2, 3, 14]

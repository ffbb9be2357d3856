"""The pull-based API for library users: ``async for value in Stream(source).map(f)...``.

A stream runs the same operators as a pipeline over any (async) iterable. Time is its
clock (inject a :class:`~herald.pipeline.clock.VirtualClock` in tests); the watermark is
the largest event time seen minus ``lateness`` (or your own function), so a silent source
freezes its windows. When the source ends, everything held is released.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from typing import Any, Literal, Self

from herald.pipeline.clock import Clock, SystemClock
from herald.pipeline.core import DeadLetter, Output
from herald.pipeline.flow import Builder, Factory, Flow
from herald.pipeline.operators.base import Context, Element
from herald.pipeline.operators.calls import Caller
from herald.pipeline.operators.chain import Chain

Overflow = Literal["drop_oldest", "drop_newest", "backpressure", "fail"]
SIDE_OUTPUT_LIMIT = 1000


class BufferOverflow(RuntimeError):
    """A ``buffer(overflow="fail")`` was full when another value came."""


async def _aiter(source: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        for item in source:
            yield item


class Stream(Builder):
    """A source plus a flow; iterate it to run it. Build methods return a new stream."""

    def __init__(
        self,
        source: AsyncIterable[Any] | Iterable[Any],
        *,
        clock: Clock | None = None,
        time_of: Callable[[Any], float] | None = None,
        lateness: float = 0.0,
        watermark: Callable[[], float | None] | None = None,
        flow: Flow | None = None,
    ) -> None:
        self._source = source
        self.clock: Clock = clock or SystemClock()
        self._time_of = time_of
        self._lateness = lateness
        self._watermark_fn = watermark
        self._flow = flow or Flow()
        self.late: deque[Any] = deque(maxlen=SIDE_OUTPUT_LIMIT)
        self.dead_letters: deque[DeadLetter] = deque(maxlen=SIDE_OUTPUT_LIMIT)
        self._chain: Chain | None = None
        self._last_watermark: float | None = None

    def _with(self, flow: Flow) -> Self:
        return type(self)(
            self._source,
            clock=self.clock,
            time_of=self._time_of,
            lateness=self._lateness,
            watermark=self._watermark_fn,
            flow=flow,
        )

    def _then(self, factory: Factory) -> Self:
        return self._with(self._flow._then(factory))

    def _named(self, names: tuple[str, ...]) -> Self:
        return self._with(self._flow._named(names))

    def _fork_names(self) -> tuple[str, ...] | None:
        return self._flow._fork_names()

    def _wrap_last(self, what: str, change: Callable[[Caller], None]) -> Self:
        return self._with(self._flow._wrap_last(what, change))

    def buffer(self, capacity: int, overflow: Overflow = "backpressure") -> Stream:
        """Run everything before this concurrently into a queue of ``capacity``.

        When it is full: ``drop_oldest`` / ``drop_newest`` drop (counted), ``backpressure``
        makes the upstream wait, ``fail`` raises :class:`BufferOverflow` to the reader.
        """
        if capacity < 1:
            raise ValueError("a buffer capacity must be >= 1")
        if overflow not in ("drop_oldest", "drop_newest", "backpressure", "fail"):
            raise ValueError(f"unknown overflow strategy {overflow!r}")
        return Stream(Buffer(self, capacity, overflow), clock=self.clock, lateness=self._lateness)

    def metrics(self) -> dict[str, dict[str, float]]:
        """The operators' metrics of the current (or last) run; a buffer's under ``buffer``."""
        found: dict[str, dict[str, float]] = {}
        if isinstance(self._source, Buffer):
            found.update({f"up/{k}": v for k, v in self._source.upstream.metrics().items()})
            found["buffer"] = self._source.metrics_dict()
        if self._chain is not None:
            found.update(self._chain.metrics())
        return found

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._values()

    async def _values(self) -> AsyncIterator[Any]:
        async for el in self._elements():
            yield el.value

    def _element(self, item: Any, index: int) -> Element:
        if isinstance(item, Element):
            return item
        when = self._time_of(item) if self._time_of is not None else self.clock.now()
        return Element(item, float(when), str(index))

    async def _elements(self) -> AsyncIterator[Element]:
        """Run the flow: feed each item, and wake at operator deadlines to release held ones."""
        ctx = Context(clock=self.clock)
        chain = self._chain = Chain(self._flow.build(), "", ctx)
        self._last_watermark = None
        puller = _Puller(_aiter(self._source).__aiter__(), self.clock)
        newest = float("-inf")
        index = 0
        try:
            while (item := await puller.next(chain.deadline())) is not _END:
                if item is not _TICK:
                    el = self._element(item, index)
                    index += 1
                    newest = max(newest, el.time)
                    for out in await chain.feed(0, [el], self.clock.now()):
                        yield out
                for out in await self._tick(chain, ctx, newest):
                    yield out
            for out in await chain.flush(self.clock.now()):
                yield out
            for out in self._side(ctx):
                yield out
        finally:
            await puller.close()

    async def _tick(self, chain: Chain, ctx: Context, newest: float) -> list[Element]:
        if self._watermark_fn is not None:
            watermark = self._watermark_fn()
        else:
            watermark = newest - self._lateness if newest > float("-inf") else None
        now = self.clock.now()
        deadline = chain.deadline()
        out: list[Element] = []
        if watermark != self._last_watermark or (deadline is not None and deadline <= now):
            self._last_watermark = watermark
            out = await chain.advance(now, watermark)
        if ctx.late or ctx.dead or ctx.outputs:
            out.extend(self._side(ctx))
        return out

    def _side(self, ctx: Context) -> list[Element]:
        """Move late items and dead letters to the stream's bounded lists; emitted outputs
        come out of the stream as :class:`Output` values."""
        self.late.extend(el.value for el in ctx.late)
        self.dead_letters.extend(ctx.dead)
        outputs: list[Output] = ctx.outputs
        ctx.clear()
        return [Element(o, o.time, o.key) for o in outputs]


_TICK: Any = object()
_END: Any = object()


class _Puller:
    """Reads a source one item ahead, so a deadline can interrupt the wait for it."""

    def __init__(self, source: AsyncIterator[Any], clock: Clock) -> None:
        self.source = source
        self.clock = clock
        self.pending: asyncio.Future[Any] | None = None

    async def next(self, deadline: float | None) -> Any:
        """The next item, ``_END``, or ``_TICK`` when ``deadline`` came first."""
        if self.pending is None and deadline is None:
            try:
                return await self.source.__anext__()
            except StopAsyncIteration:
                return _END
        pending = self.pending = self.pending or asyncio.ensure_future(self.source.__anext__())
        if not pending.done():
            if deadline is None:
                await asyncio.wait({pending})
            else:
                await self._wait(pending, deadline)
        if not pending.done():
            return _TICK
        self.pending = None
        try:
            return pending.result()
        except StopAsyncIteration:
            return _END

    async def _wait(self, pending: asyncio.Future[Any], deadline: float) -> None:
        sleeper = asyncio.ensure_future(self.clock.sleep_until(deadline))
        try:
            await asyncio.wait({pending, sleeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not sleeper.done():
                sleeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sleeper

    async def close(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None and not pending.done():
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending


class Buffer:
    """The queue between a stream and what reads it (see :meth:`Stream.buffer`)."""

    def __init__(self, upstream: Stream, capacity: int, overflow: Overflow) -> None:
        self.upstream = upstream
        self.capacity = capacity
        self.overflow = overflow
        self.dropped = 0
        self.high = 0
        self.passed = 0
        self.queue: deque[Element] = deque()

    def metrics_dict(self) -> dict[str, float]:
        return {
            "in": float(self.passed + self.dropped),
            "out": float(self.passed),
            "dropped": float(self.dropped),
            "errors": 0.0,
            "depth": float(len(self.queue)),
            "high_water": float(self.high),
        }

    def __aiter__(self) -> AsyncIterator[Element]:
        return self._run()

    async def _produce(self, changed: asyncio.Condition, state: dict[str, Any]) -> None:
        try:
            async for el in self.upstream._elements():
                async with changed:
                    if len(self.queue) >= self.capacity:
                        if self.overflow == "fail":
                            raise BufferOverflow(f"buffer of {self.capacity} is full")
                        if self.overflow == "drop_newest":
                            self.dropped += 1
                            continue
                        if self.overflow == "drop_oldest":
                            self.queue.popleft()
                            self.dropped += 1
                        else:
                            await changed.wait_for(lambda: len(self.queue) < self.capacity)
                    self.queue.append(el)
                    self.high = max(self.high, len(self.queue))
                    changed.notify_all()
        except BaseException as exc:
            state["error"] = exc
            raise
        finally:
            async with changed:
                state["done"] = True
                changed.notify_all()

    async def _run(self) -> AsyncIterator[Element]:
        changed = asyncio.Condition()
        state: dict[str, Any] = {"done": False, "error": None}
        producer = asyncio.ensure_future(self._produce(changed, state))
        try:
            while True:
                async with changed:
                    await changed.wait_for(lambda: bool(self.queue) or state["done"])
                    if not self.queue:
                        break
                    el = self.queue.popleft()
                    self.passed += 1
                    changed.notify_all()
                yield el
            error = state["error"]
            if isinstance(error, Exception):
                raise error
        finally:
            if not producer.done():
                producer.cancel()
            with contextlib.suppress(BaseException):
                await producer


def merge(
    *sources: Stream | AsyncIterable[Any] | Iterable[Any], clock: Clock | None = None
) -> Stream:
    """One stream of everything the sources yield, as it comes (each source is read by its
    own task, one value ahead at most, so a slow reader slows every source)."""
    return Stream(_Merged(sources), clock=clock)


_DONE: Any = object()


class _Merged:
    def __init__(self, sources: tuple[Stream | AsyncIterable[Any] | Iterable[Any], ...]) -> None:
        self.sources = sources

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._run()

    async def _pump(self, index: int, source: Any, queue: asyncio.Queue[Any]) -> None:
        try:
            if isinstance(source, Stream):
                async for el in source._elements():
                    el.origin = f"{index}:{el.origin}"
                    await queue.put(el)
            else:
                async for item in _aiter(source):
                    await queue.put(item)
        except Exception as exc:
            await queue.put((_DONE, exc))
            return
        await queue.put((_DONE, None))

    async def _run(self) -> AsyncIterator[Any]:
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=1)
        tasks = [
            asyncio.ensure_future(self._pump(i, source, queue))
            for i, source in enumerate(self.sources)
        ]
        running = len(tasks)
        try:
            while running:
                item = await queue.get()
                if isinstance(item, tuple) and len(item) == 2 and item[0] is _DONE:
                    running -= 1
                    if item[1] is not None:
                        raise item[1]
                    continue
                yield item
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task

"""One owner per connection: two runtimes on one Redis never both hold it; a lost lease
stops the reader at once; a clean stop hands over at the other's next check; a flood is
held back by the bounded buffer."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from herald.config import Settings
from herald.engine import changes
from herald.events import EventType
from herald.push.base import PushChange
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.service import Herald
from tests.platforms.feed import TYPE
from tests.push.support import messages, start, wait_connected, wait_messages
from tests.waiting import wait_until


def _source(feed: MemoryFeed) -> MemoryPushSource:
    return MemoryPushSource(feed, stream_types=(TYPE,))


async def _watch_overlap(sources: list[MemoryPushSource], seen: list[int]) -> None:
    """Record the most connections open at once across the runtimes."""
    while True:
        seen.append(sum(len(s.connections) for s in sources))
        await asyncio.sleep(0.005)  # sampling rate of the watcher, not a wait for a result


@contextlib.asynccontextmanager
async def _watching(sources: list[MemoryPushSource]) -> AsyncIterator[list[int]]:
    seen: list[int] = []
    task = asyncio.create_task(_watch_overlap(sources, seen))
    try:
        yield seen
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_two_runtimes_one_owner_and_a_clean_handover(
    settings: Settings, feed: MemoryFeed
) -> None:
    one, two = _source(feed), _source(feed)
    async with Herald(settings, sources=[two], delivery=False) as second:
        first = await Herald(settings, sources=[one], delivery=False).start()
        try:
            async with _watching([one, two]) as overlap:
                sid = await start(first, "news")
                await wait_until(
                    lambda: len(one.connections) + len(two.connections) == 1,
                    timeout=10,
                    what="one connection",
                )
                owner = first if one.connections else second
                other = second if owner is first else first
                for i in range(30):
                    feed.publish("news", f"m{i}")
                await wait_messages(first, sid, 30)
                assert other.push is not None and not other.push.runners
                await owner.stop()  # releases the lease: the other takes over at its next check
                for i in range(30, 60):
                    feed.publish("news", f"m{i}")
                await wait_messages(other, sid, 60)
            assert max(overlap) == 1, "never two connections at once"
            assert await messages(other, sid) == [f"m{i}" for i in range(60)]
        finally:
            await first.stop()


async def test_a_lost_lease_stops_the_reader_at_once(herald: Herald, feed: MemoryFeed) -> None:
    sid = await start(herald, "news")
    runner = await wait_connected(herald)
    feed.publish("news", "before")
    await wait_messages(herald, sid, 1)
    # another owner took the connection (as after a long pause of this process)
    await herald.redis.set(herald.keys.push_lease(runner.key), "intruder.x", px=60_000)
    await wait_until(lambda: runner.done, timeout=10, what="the runner stopped")
    assert runner.lost and not runner.connected
    for i in range(5):
        feed.publish("news", f"after{i}")
    assert herald.push is not None
    await herald.push.check()  # another pass: the intruder still holds it, nothing is taken
    assert not herald.push.runners
    assert await messages(herald, sid) == ["before"], "nothing appended without the lease"
    assert await herald.redis.get(herald.keys.push_lease(runner.key)) == b"intruder.x"


async def test_a_fenced_append_writes_nothing(herald: Herald, feed: MemoryFeed) -> None:
    """Even a runner that has not noticed yet cannot append: the script checks the token."""
    sid = await start(herald, "news")
    runner = await wait_connected(herald)
    feed.publish("news", "one")
    await wait_messages(herald, sid, 1)
    cursor = await herald.push_store.cursor(runner.key)
    record = await herald.store.get(sid)
    assert record is not None
    event = changes.change_event(
        record, PushChange(sid, EventType.MESSAGE_NEW, "999", {"message": {"id": "999"}})
    )
    result = await herald.push_store.append(runner.key, "stale.token", {sid: [event]}, "999")
    assert result is None
    assert await herald.push_store.cursor(runner.key) == cursor
    assert await messages(herald, sid) == ["one"]


async def test_a_flood_is_held_back_by_the_bounded_buffer(
    settings: Settings, feed: MemoryFeed
) -> None:
    settings = settings.model_copy(update={"push_buffer": 20, "push_batch": 5})
    source = _source(feed)
    source.decode_delay = 0.002  # herald is the slow side
    async with Herald(settings, sources=[source], delivery=False) as herald:
        sid = await start(herald, "news")
        runner = await wait_connected(herald)
        total = 1000
        for i in range(total):
            feed.publish("news", f"m{i}")
        ahead: list[int] = []

        async def all_in() -> bool:
            # read off the connection but not yet decoded: at most the buffer, the batch
            # being decoded and the frame the reader holds while it waits for room
            ahead.append(source.frames_sent - source.decoded)
            return len(await messages(herald, sid)) >= total

        await wait_until(all_in, timeout=60, interval=0.005, what="every message")
        assert max(ahead) <= 20 + 5 + 1, "the reader stopped reading while the buffer was full"
        assert max(ahead) >= 15, "the buffer did fill up"
        assert runner.buffer_peak <= 20
        got = await messages(herald, sid)
        assert got == [f"m{i}" for i in range(total)]

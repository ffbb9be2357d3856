"""The one reader of the global log, on the embedded Valkey and the machine's Redis 7."""

from __future__ import annotations

import asyncio

import orjson
import redis.asyncio as aioredis

from herald.events import Event, EventType, with_offset
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from herald.store.logreader import MAX_SEQ, LogReader


def tweet(n: int, stream_id: str = "s1") -> Event:
    return Event(EventType.TWEET_NEW, stream_id, "alice", str(n), {"tweet": {"id": str(n)}})


async def add(redis: aioredis.Redis, keys: Keys, offset: str, n: int) -> None:
    """An entry at a chosen offset, shaped as the append script writes it."""
    ev = tweet(n)
    fields = {"t": ev.type.value, "s": ev.stream_id, "e": ev.encode()}
    await redis.xadd(keys.events, fields, id=offset)  # type: ignore[arg-type]


async def test_reads_after_an_offset_in_bounded_pages(redis: aioredis.Redis, keys: Keys) -> None:
    log = EventLog(redis, keys)
    events = [tweet(n) for n in range(5)]
    appended = await log.append("s1", events)
    offsets = [a.offset for a in appended]
    everything = await log.after(None, 100)
    assert [e.offset for e in everything] == offsets
    assert [e.offset for e in await log.after(offsets[1], 2)] == offsets[2:4]
    assert [e.offset for e in await log.after(offsets[-1], 10)] == []
    ms = offsets[0].split("-")[0]
    assert (await log.after(ms, 100))[0].key >= (int(ms), 0)  # "ms" alone means ms-0

    first = everything[0]
    assert (first.type, first.stream_id) == ("stream:tweet:new", "s1")
    # Encoded once: the stored bytes with the offset spliced in, not a re-serialisation.
    assert first.data == with_offset(events[0].encode(), first.offset)
    assert first.text == first.data.decode()
    assert first.body == {"offset": first.offset, **orjson.loads(events[0].encode())}


async def test_newest_bounds_and_end(redis: aioredis.Redis, keys: Keys) -> None:
    log = LogReader(redis, keys.events)
    assert await log.newest(3) == []
    assert await log.newest_offset() == "0-0"
    assert await log.bounds() == (None, None)
    assert await log.end() == "0-0"
    for n in range(1, 6):
        await add(redis, keys, f"{n}000-0", n)
    assert [e.offset for e in await log.newest(2)] == ["4000-0", "5000-0"]  # oldest first
    assert await log.newest_offset() == "5000-0"
    assert await log.oldest_offset() == "1000-0"
    assert await log.bounds() == ("1000-0", "5000-0")
    await redis.xtrim(keys.events, maxlen=0, approximate=False)
    assert await log.end() == "5000-0"  # what was generated, even when nothing is held


async def test_resolves_a_time_to_an_offset(redis: aioredis.Redis, keys: Keys) -> None:
    log = LogReader(redis, keys.events)
    assert await log.offset_at(1500) == f"1499-{MAX_SEQ}"  # nothing held before that time
    for n, offset in enumerate(("1000-0", "2000-0", "2000-1", "3000-0")):
        await add(redis, keys, offset, n)
    assert await log.offset_at(2000) == "1000-0"
    assert [e.offset for e in await log.after(await log.offset_at(2000), 10)] == [
        "2000-0",
        "2000-1",
        "3000-0",
    ]
    assert await log.offset_at(2001) == "2000-1"
    assert await log.offset_at(0) == "0-0"
    assert [e.offset for e in await log.after(await log.offset_at(9999), 10)] == []


async def test_knows_when_reading_after_an_offset_has_a_gap(
    redis: aioredis.Redis, keys: Keys
) -> None:
    log = LogReader(redis, keys.events)
    assert await log.trimmed_after("0-0") is None  # no log at all
    for n in range(1, 7):
        await add(redis, keys, f"{n}000-0", n)
    assert await log.trimmed_after("0-0") is None  # never trimmed: continuous from anywhere
    await redis.xtrim(keys.events, maxlen=3, approximate=False)
    assert await log.trimmed_after("2000-0") == "4000-0"
    assert await log.trimmed_after("2000") == "4000-0"
    # Whether anything lay between a trimmed offset and the oldest held cannot be known.
    assert await log.trimmed_after("3000-0") == "4000-0"
    assert await log.trimmed_after("4000-0") is None
    assert await log.trimmed_after("5000-0") is None
    # A time before the oldest entry held resolves to an offset the reader flags as a gap.
    assert await log.trimmed_after(await log.offset_at(2500)) == "4000-0"
    await redis.xtrim(keys.events, maxlen=0, approximate=False)
    assert await log.trimmed_after("5000-0") == "6000-0"  # emptied: what followed is gone
    assert await log.trimmed_after("6000-0") is None


async def test_a_checked_read_answers_the_entries_and_the_gap_together(
    redis: aioredis.Redis, keys: Keys
) -> None:
    log = LogReader(redis, keys.events)
    assert await log.after_checked("0-0", 10) == ([], None)  # no log at all
    for n in range(1, 7):
        await add(redis, keys, f"{n}000-0", n)
    found, gap = await log.after_checked("1000-0", 2)
    assert [e.offset for e in found] == ["2000-0", "3000-0"] and gap is None
    await redis.xtrim(keys.events, maxlen=3, approximate=False)
    found, gap = await log.after_checked("2000", 10)
    assert [e.offset for e in found] == ["4000-0", "5000-0", "6000-0"]
    assert gap == "4000-0"
    found, gap = await log.after_checked("4000-0", 10)
    assert [e.offset for e in found] == ["5000-0", "6000-0"] and gap is None


async def test_blocks_for_new_entries_until_the_timeout(redis: aioredis.Redis, keys: Keys) -> None:
    log = EventLog(redis, keys)
    (before,) = await log.append("s1", [tweet(0)])
    assert await log.wait(before.offset, 10, block_ms=50) == []  # the time ran out
    waiting = asyncio.create_task(log.wait(before.offset, 10, block_ms=10_000))
    done, _ = await asyncio.wait({waiting}, timeout=0.2)
    assert not done, "returned before anything was appended"
    new = tweet(1)
    (after,) = await log.append("s1", [new])
    got = await asyncio.wait_for(waiting, 10)
    assert [e.offset for e in got] == [after.offset]
    assert got[0].data == with_offset(new.encode(), after.offset)

"""The writer: a consumer group on the real log copies every event into the archive once,
catches up after downtime, and replays a batch a crash left unacknowledged."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from redis.asyncio import Redis

from herald.archive.base import ArchivedEvent, Filters
from herald.archive.memory import MemoryArchive
from herald.archive.sqlite import SqliteArchive
from herald.archive.writer import ArchiveWriter
from herald.events import Event, EventType
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.store.archive import ArchiveLogStore
from herald.store.eventlog import EventLog
from herald.store.keys import Keys
from tests.servers import herald_settings
from tests.waiting import wait_until


def tweets(start: int, n: int, stream: str = "s1", word: str = "hello") -> list[Event]:
    return [
        Event(
            EventType.TWEET_NEW,
            stream,
            "watched",
            str(i),
            {"tweet": {"id": str(i), "text": f"{word} number {i}", "author": "a"}},
            platform="x",
        )
        for i in range(start, start + n)
    ]


async def archived_ids(archive: SqliteArchive | MemoryArchive) -> list[str]:
    return [e.event_id async for e in archive.export(Filters())]


async def test_every_event_once_and_caught_up_after_downtime(
    key_prefix: str, tmp_path: Path, external_redis: Redis
) -> None:
    settings = herald_settings(
        key_prefix, archive_url=f"sqlite:///{tmp_path}/archive.db", pipeline_lease_ttl=1
    )
    async with Herald(settings, sources=[MemorySource()], delivery=False) as herald:
        assert herald.archive is not None and herald.archive_writer is not None
        for k in range(5):
            await herald.log.append("s1", tweets(k * 10, 10))
        await herald.log.append("s1", tweets(0, 10))  # append-once: nothing new
        archive = herald.archive
        await wait_until(lambda: _count_is(archive, 50), what="50 events archived")
    # down: the log grows without a writer
    log = EventLog(external_redis, Keys(key_prefix))
    await log.append("s2", tweets(100, 30, stream="s2"))
    async with Herald(settings, sources=[MemorySource()], delivery=False) as herald:
        archive = herald.archive
        assert archive is not None
        await wait_until(lambda: _count_is(archive, 80), what="caught up after downtime")
        ids = await archived_ids(archive)  # type: ignore[arg-type]
        assert len(ids) == len(set(ids)) == 80
        state = await ArchiveLogStore(external_redis, Keys(key_prefix)).state()
        assert int(state["archived"]) == 80


async def _count_is(archive: object, n: int) -> bool:
    count = await archive.count()  # type: ignore[attr-defined]
    assert count <= n, f"archived {count} > {n}: duplicates"
    return bool(count == n)


class CrashAfterInsert(MemoryArchive):
    """Commits the insert, then dies before the writer can acknowledge the batch."""

    def __init__(self, shared: MemoryArchive) -> None:
        super().__init__()
        self._events = shared._events
        self.calls = 0

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        self.calls += 1
        await super().insert_many(events)
        raise KeyboardInterrupt  # not an Exception: nothing in the writer catches it


async def test_a_batch_inserted_but_not_acked_is_replayed_without_duplicates(
    key_prefix: str, external_redis: Redis
) -> None:
    keys = Keys(key_prefix)
    log = EventLog(external_redis, keys)
    store = ArchiveLogStore(external_redis, keys)
    await store.ensure_group()
    await log.append("s1", tweets(0, 20))
    shared = MemoryArchive()
    crashing = CrashAfterInsert(shared)
    first = ArchiveWriter(crashing, store, lease_ttl=0.5, block=0.05)
    with pytest.raises(KeyboardInterrupt):
        await first.run()
    assert crashing.calls == 1 and await shared.count() == 20
    pending = await external_redis.xpending(keys.events, "archive")
    assert pending["pending"] == 20  # inserted, never acknowledged
    second = ArchiveWriter(shared, store, lease_ttl=0.5, block=0.05)  # the lease must lapse
    await second.start()
    try:
        await log.append("s1", tweets(20, 5))
        await wait_until(lambda: _count_is(shared, 25), what="25 archived")
        await wait_until(
            lambda: _no_pending(external_redis, keys), what="the replayed batch acknowledged"
        )
    finally:
        await second.stop()
    ids = await archived_ids(shared)
    assert len(ids) == len(set(ids)) == 25


async def _no_pending(redis: Redis, keys: Keys) -> bool:
    info = await redis.xpending(keys.events, "archive")
    return bool(info["pending"] == 0)


async def test_retention_purges_old_events(key_prefix: str, external_redis: Redis) -> None:
    keys = Keys(key_prefix)
    store = ArchiveLogStore(external_redis, keys)
    await store.ensure_group()
    archive = MemoryArchive()
    old = Event(EventType.TWEET_NEW, "s1", "w", "old", {"tweet": {"id": "old", "text": "x"}})
    old.detected_at = "2020-01-01T00:00:00.000Z"
    await EventLog(external_redis, keys).append("s1", [old, *tweets(0, 3)])
    writer = ArchiveWriter(archive, store, lease_ttl=0.5, block=0.05, retention_days=30)
    await writer.start()
    try:
        await wait_until(lambda: _purged(store), what="the retention purge ran after the batch")
        assert [e.event_id for e in await _all(archive)] == [f"tweet:{i}@s1" for i in range(3)]
    finally:
        await writer.stop()


async def _purged(store: ArchiveLogStore) -> bool:
    return (await store.state()).get("purged") == "1"


async def _all(archive: MemoryArchive) -> list[ArchivedEvent]:
    return [e async for e in archive.export(Filters())]

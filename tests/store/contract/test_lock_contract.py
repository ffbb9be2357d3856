"""The LockStore contract, on the twin, the embedded Valkey and Redis 7; and the commit
that releases the poll's lock (``StreamStore.commit_poll``) on the Redis backends."""

from __future__ import annotations

import asyncio
import time

from backends import Backend, locks_on

from herald.store.streams import StreamRecord, StreamStore
from tests.waiting import wait_until

STREAM = "s1"
LONG = 60_000


async def test_one_owner_at_a_time(backend: Backend) -> None:
    locks = locks_on(backend)
    assert await locks.take(STREAM, "a", LONG)
    assert not await locks.take(STREAM, "b", LONG)
    assert await locks.owner(STREAM) == "a"
    assert await locks.take("other", "b", LONG), "per stream"


async def test_concurrent_takers_get_one_lock(backend: Backend) -> None:
    locks = locks_on(backend)
    won = await asyncio.gather(*(locks.take(STREAM, f"t{i}", LONG) for i in range(20)))
    assert sum(won) == 1


async def test_only_the_owner_releases(backend: Backend) -> None:
    locks = locks_on(backend)
    assert await locks.take(STREAM, "a", LONG)
    assert not await locks.release(STREAM, "b")
    assert await locks.owner(STREAM) == "a"
    assert await locks.release(STREAM, "a")
    assert await locks.owner(STREAM) is None
    assert not await locks.release(STREAM, "a"), "a second release is a no-op"
    assert await locks.take(STREAM, "b", LONG)


async def test_lock_stolen_after_expiry_stays_with_the_thief(backend: Backend) -> None:
    locks = locks_on(backend)
    assert await locks.take(STREAM, "old", 50)
    await wait_until(lambda: locks.take(STREAM, "new", LONG), timeout=5, what="lease expiry")
    assert not await locks.release(STREAM, "old"), "the old owner cannot free the new lock"
    assert await locks.owner(STREAM) == "new"


async def test_free_dead_frees_only_the_dead_workers_lock(backend: Backend) -> None:
    locks = locks_on(backend)
    assert await locks.take(STREAM, "dead-token", 50, holder="w-dead")
    assert await locks.free_dead("w-dead", STREAM)
    assert await locks.owner(STREAM) is None
    # the dead worker's lock expired and a live poll took the stream: left alone
    assert await locks.take(STREAM, "dead-2", 50, holder="w-dead")
    await wait_until(lambda: locks.take(STREAM, "live", LONG, holder="w-live"), timeout=5)
    assert not await locks.free_dead("w-dead", STREAM)
    assert not await locks.free_dead("w-unknown", STREAM)
    assert await locks.owner(STREAM) == "live"


async def test_named_lease_is_exclusive_until_it_expires(backend: Backend) -> None:
    locks = locks_on(backend)
    assert await locks.lease("reconcile", 50)
    assert not await locks.lease("reconcile", 50)
    assert await locks.lease("other-chore", 50)
    await wait_until(lambda: locks.lease("reconcile", LONG), timeout=5, what="lease expiry")


async def test_commit_releases_only_its_own_lock(redis_backend: Backend) -> None:
    streams = StreamStore(redis_backend.client, redis_backend.keys, ttl=100)
    locks = locks_on(redis_backend)
    record = StreamRecord(
        id=STREAM, type="x:tweet", username="alice", interval=60.0, created_at=time.time()
    )
    await streams.create(record)
    locked, got = await streams.lock_and_get(STREAM, "mine", LONG)
    assert locked and got is not None and got.id == STREAM
    assert await streams.commit_poll(STREAM, {"seq": 1}, "stale")
    assert await locks.owner(STREAM) == "mine", "a stale token's commit left the lock"
    assert await streams.commit_poll(STREAM, {"seq": 2}, "mine")
    assert await locks.owner(STREAM) is None, "the commit released the poll's lock"
    await streams.set_state(STREAM, {"status": "paused"})
    assert await locks.take(STREAM, "next", LONG)
    assert not await streams.commit_poll(STREAM, {"seq": 3}, "next"), "paused: not written"
    assert await locks.owner(STREAM) is None, "released even when the state is not written"

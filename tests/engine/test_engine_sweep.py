"""The sweep against real Redis: a dead worker's jobs (no heartbeat) run again in one pass,
all at once; their polls' locks are freed only when the dead poll still holds them; the
jobs of live workers are left alone."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from saq import Job, Status
from stores import scheduler_on

from herald.engine import sweep as sweep_module
from herald.engine.scheduler import Scheduler
from herald.store.keys import Keys
from herald.store.streams import StreamStore

LEASE_MS = 60_000


@pytest.fixture
def scheduler(redis: aioredis.Redis, keys: Keys) -> Scheduler:
    return scheduler_on(redis, keys, job_timeout=30)


@pytest.fixture
async def streams(redis: aioredis.Redis, scheduler: Scheduler) -> AsyncIterator[list[str]]:
    """Stream ids of this test's own (SAQ's job keys are not under the key prefix)."""
    made: list[str] = []
    yield made
    q = scheduler.queue
    for sid in made:
        job_id = q.job_id(f"poll:{sid}")
        await redis.delete(job_id)
        await redis.lrem(q._active, 0, job_id)
        await redis.lrem(q._queued, 0, job_id)
        await redis.zrem(q._incomplete, job_id)


@pytest.fixture
def quick_second_look(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sweep_module, "SECOND_LOOK", 0.3)


async def _take(scheduler: Scheduler, streams: list[str], worker: str | None) -> Job:
    """A due job taken from the queue; with ``worker``, marked active by it as SAQ does."""
    sid = f"s{len(streams)}-{secrets.token_hex(4)}"
    streams.append(sid)
    assert await scheduler.schedule(sid, time.time() - 1)
    job = None
    for _ in range(20):  # the scheduling lock of the previous take lasts a millisecond
        await scheduler.queue.schedule(lock=0.001)
        if (job := await scheduler.queue.dequeue(timeout=0.05)) is not None:
            break
    assert job is not None and (job.kwargs or {}).get("stream_id") == sid
    if worker is not None:
        job.worker_id = worker
        job.started = int(time.time() * 1000)
        await job.update(status=Status.ACTIVE)
    return job


async def _lock(redis: aioredis.Redis, keys: Keys, worker: str, job: Job) -> str:
    """Take the job's stream lock as a poll in ``worker``'s process does; its token."""
    store = StreamStore(redis, keys, ttl=60)
    store.lock_holder = worker
    token = secrets.token_hex(8)
    locked, _ = await store.lock_and_get(_sid(job), token, LEASE_MS)
    assert locked
    return token


def _sid(job: Job) -> str:
    return str((job.kwargs or {})["stream_id"])


async def _put_back(redis: aioredis.Redis, scheduler: Scheduler, job: Job) -> bool:
    """The job is due at once: in the queue, pending, stored as queued with no worker."""
    q = scheduler.queue
    stored = await q.job(job.key)
    return (
        job.id.encode() in await redis.lrange(q._queued, 0, -1)
        and job.id.encode() not in await redis.lrange(q._active, 0, -1)
        and await redis.zscore(q._incomplete, job.id) == 0
        and stored is not None
        and stored.status == Status.QUEUED
        and stored.worker_id is None
    )


async def _dead_worker(scheduler: Scheduler) -> str:
    """A worker that beat once, with a short TTL, and then died: returns when it is gone."""
    worker = f"dead-{secrets.token_hex(4)}"
    await scheduler.liveness.beat(worker, ttl=0.5)
    deadline = time.monotonic() + 10
    while await scheduler.liveness.alive([worker]):
        assert time.monotonic() < deadline, "the heartbeat key did not expire"
        await asyncio.sleep(0.05)
    return worker


async def test_a_dead_workers_job_runs_again_in_one_sweep_and_its_lock_is_freed(
    redis: aioredis.Redis, scheduler: Scheduler, keys: Keys, streams: list[str]
) -> None:
    dead = await _dead_worker(scheduler)
    job = await _take(scheduler, streams, dead)
    await _lock(redis, keys, dead, job)
    assert await scheduler.queue.sweep(lock=1) == [job.id]
    assert await _put_back(redis, scheduler, job)
    assert await redis.get(keys.lock(_sid(job))) is None
    retaken = await scheduler.queue.dequeue(timeout=1)
    assert retaken is not None and retaken.id == job.id
    assert retaken.kwargs == job.kwargs  # the same poll, as planned


async def test_a_live_workers_job_and_lock_are_left_alone(
    redis: aioredis.Redis, scheduler: Scheduler, keys: Keys, streams: list[str]
) -> None:
    live = f"live-{secrets.token_hex(4)}"
    await scheduler.liveness.beat(live, ttl=30)
    try:
        job = await _take(scheduler, streams, live)
        token = await _lock(redis, keys, live, job)
        assert await scheduler.queue.sweep(lock=1) == []
        stored = await scheduler.queue.job(job.key)
        assert stored is not None and stored.status == Status.ACTIVE
        assert await redis.lrange(scheduler.queue._active, 0, -1) == [job.id.encode()]
        assert await redis.get(keys.lock(_sid(job))) == token.encode()
    finally:
        await scheduler.liveness.forget(live)


async def test_a_lock_the_dead_poll_does_not_hold_is_never_freed(
    redis: aioredis.Redis, scheduler: Scheduler, keys: Keys, streams: list[str]
) -> None:
    """The dead worker asked for the lock, but a live poll (another process's "poll now")
    holds it: the job runs again, and that poll keeps its lock (one poll in flight)."""
    dead = await _dead_worker(scheduler)
    job = await _take(scheduler, streams, dead)
    store = StreamStore(redis, keys, ttl=60)
    store.lock_holder = dead
    live_token = secrets.token_hex(8)
    await redis.set(keys.lock(_sid(job)), live_token, px=LEASE_MS)
    locked, _ = await store.lock_and_get(_sid(job), secrets.token_hex(8), LEASE_MS)
    assert not locked  # the dead worker's poll was refused: "busy"
    assert await scheduler.queue.sweep(lock=1) == [job.id]
    assert await _put_back(redis, scheduler, job)
    assert await redis.get(keys.lock(_sid(job))) == live_token.encode()


@pytest.mark.usefixtures("quick_second_look")
async def test_many_orphans_are_recovered_together_not_one_after_another(
    redis: aioredis.Redis, scheduler: Scheduler, keys: Keys, streams: list[str]
) -> None:
    """Five polls of a dead worker, and three jobs taken by workers that died before marking
    them: one sweep puts all eight back, in about the second look, not 8 x its 5 s wait."""
    dead = await _dead_worker(scheduler)
    orphans = [await _take(scheduler, streams, dead) for _ in range(5)]
    for job in orphans:
        await _lock(redis, keys, dead, job)
    unmarked = [await _take(scheduler, streams, None) for _ in range(3)]
    started = time.monotonic()
    swept = await scheduler.queue.sweep(lock=1, abort=5.0)
    elapsed = time.monotonic() - started
    assert sorted(swept) == sorted(j.id for j in orphans + unmarked)
    assert elapsed < 3.0, f"the sweep took {elapsed:.1f}s"
    for job in orphans + unmarked:
        assert await _put_back(redis, scheduler, job)
    for job in orphans:
        assert await redis.get(keys.lock(_sid(job))) is None
    assert await redis.lrange(scheduler.queue._active, 0, -1) == []

"""The job queue's store primitives on real Redis (embedded and external): cancelling a
stream's poll job, which streams have one, when it is due, and the sweep's read and put-back,
which refuses a job that changed since it was read."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from saq import Job, Status

from herald.store.jobs import HeraldQueue
from herald.store.keys import Keys, poll_job_key


@pytest.fixture
async def queue(redis: aioredis.Redis, keys: Keys) -> AsyncIterator[HeraldQueue]:
    q = HeraldQueue(redis, keys)
    yield q
    await q.aclose_pubsub()


def poll_job(stream_id: str, at: float) -> Job:
    return Job(
        function="poll",
        key=poll_job_key(stream_id),
        kwargs={"stream_id": stream_id, "planned": at},
        scheduled=at,  # type: ignore[arg-type]  # SAQ accepts float seconds
        timeout=5,
        ttl=-1,
    )


async def take(queue: HeraldQueue, stream_id: str) -> Job:
    assert await queue.enqueue(poll_job(stream_id, time.time() - 1)) is not None
    await queue.schedule()
    job = await queue.dequeue(timeout=1)
    assert job is not None and (job.kwargs or {}).get("stream_id") == stream_id
    return job


async def test_cancel_removed_running_absent(queue: HeraldQueue, key_prefix: str) -> None:
    waiting, running = f"w-{key_prefix}", f"r-{key_prefix}"
    at = time.time() + 600
    assert await queue.enqueue(poll_job(waiting, at)) is not None
    await take(queue, running)
    assert await queue.pending_polls([waiting, running, "none"]) == {
        waiting: True,
        running: True,
        "none": False,
    }
    planned = await queue.planned_at(waiting)
    assert planned is not None and abs(planned - at) < 1
    assert await queue.cancel_poll(waiting) == "removed"
    assert await queue.cancel_poll(waiting) == "absent"
    assert await queue.cancel_poll(running) == "running", "a running job is left to finish"
    assert await queue.pending_polls([waiting, running]) == {waiting: False, running: True}
    assert await queue.planned_at(waiting) is None
    assert await queue.pending_polls([]) == {}


async def test_put_back_refuses_a_job_that_changed(
    queue: HeraldQueue, redis: aioredis.Redis, key_prefix: str
) -> None:
    job = await take(queue, f"s-{key_prefix}")
    found = await queue.sweep_read(lock=0.001)
    body = found[job.id.encode()]
    assert body is not None
    await redis.set(job.id, body + b" ")  # the worker moved on meanwhile
    job.status = Status.QUEUED
    assert not await queue.put_back(job.id.encode(), body, job)
    await redis.set(job.id, body)
    assert await queue.put_back(job.id.encode(), body, job)
    assert await redis.lrange(queue._active, 0, -1) == []
    assert await redis.lrange(queue._queued, 0, -1) == [job.id.encode()]
    assert not await queue.put_back(job.id.encode(), body, job), "no longer active"


async def test_sweep_read_is_one_sweeper_at_a_time(queue: HeraldQueue, key_prefix: str) -> None:
    job = await take(queue, f"s-{key_prefix}")
    assert job.id.encode() in await queue.sweep_read(lock=60)
    assert await queue.sweep_read(lock=60) == {}, "another sweep holds the lock"


async def test_drop_forgets_an_entry(
    queue: HeraldQueue, redis: aioredis.Redis, key_prefix: str
) -> None:
    job = await take(queue, f"s-{key_prefix}")
    await redis.delete(job.id)
    await queue.drop(job.id.encode())
    assert await redis.lrange(queue._active, 0, -1) == []
    assert await redis.zscore(queue._incomplete, job.id) is None

"""HeraldQueue against real Redis: the one-script take, and finish-and-enqueue-next."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import redis.asyncio as aioredis
from saq import Job, Status
from stores import scheduler_on

from herald.engine import sweep as sweep_module
from herald.engine.scheduler import Scheduler
from herald.store.keys import Keys


@pytest.fixture
def scheduler(redis: aioredis.Redis, keys: Keys) -> Scheduler:
    return scheduler_on(redis, keys, job_timeout=5)


@pytest.fixture
def stream(key_prefix: str) -> str:
    """A stream id of this test's own: SAQ's abort markers are not under the key prefix."""
    return f"s-{key_prefix}"


async def _take(scheduler: Scheduler, stream: str) -> Job:
    """Schedule the stream's poll as due now, move it to the queue and take it."""
    assert await scheduler.schedule(stream, time.time() - 1)
    await scheduler.queue.schedule()
    job = await scheduler.queue.dequeue(timeout=1)
    assert job is not None and (job.kwargs or {}).get("stream_id") == stream
    return job


async def _state(redis: aioredis.Redis, scheduler: Scheduler, job_id: str) -> dict[str, object]:
    q = scheduler.queue
    return {
        "active": await redis.lrange(q._active, 0, -1),
        "queued": await redis.lrange(q._queued, 0, -1),
        "score": await redis.zscore(q._incomplete, job_id),
        "body": await redis.get(job_id),
    }


async def test_take_moves_the_job_to_active_in_one_step(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)
    state = await _state(redis, scheduler, job.id)
    assert state["active"] == [job.id.encode()] and state["queued"] == []
    assert await scheduler.queue.dequeue(timeout=0.2) is None  # empty: falls back, times out


async def test_finish_enqueues_the_follow_up_in_the_same_script(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)
    later = time.time() + 30
    scheduler.queue.follow_up = lambda done: scheduler.poll_job(stream, later)
    await job.finish(Status.COMPLETE, result="ok")
    state = await _state(redis, scheduler, job.id)
    assert state["active"] == [] and state["queued"] == []
    assert state["score"] == pytest.approx(later, abs=0.01)
    pending = await scheduler.queue.job(job.key)
    assert pending is not None and pending.status == Status.QUEUED
    assert pending.kwargs == {"stream_id": stream, "planned": later}
    assert not await scheduler.schedule(stream, later)  # one pending job per stream, still


async def test_finish_without_a_follow_up_leaves_nothing(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)
    scheduler.queue.follow_up = lambda done: None
    await job.finish(Status.COMPLETE, result="stopped")
    assert await _state(redis, scheduler, job.id) == {
        "active": [],
        "queued": [],
        "score": None,
        "body": None,
    }


async def test_an_abort_marker_refuses_the_follow_up_as_enqueue_would(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)
    await redis.set(job.abort_id, "aborted", ex=5)
    try:
        scheduler.queue.follow_up = lambda done: scheduler.poll_job(stream, time.time() + 30)
        await job.finish(Status.COMPLETE, result="ok")
        state = await _state(redis, scheduler, job.id)
        assert (state["active"], state["score"], state["body"]) == ([], None, None)
    finally:
        await redis.delete(job.abort_id)


async def test_no_job_status_is_published(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    pubsub = redis.pubsub()
    await pubsub.psubscribe(f"{scheduler.queue.job_id('')}*")
    try:
        await pubsub.get_message(timeout=1)  # the subscribe confirmation
        job = await _take(scheduler, stream)
        await job.update(status=Status.ACTIVE)
        await job.finish(Status.COMPLETE, result="ok")
        marker = f"{scheduler.queue.job_id('')}marker"
        await redis.publish(marker, "after the job")  # delivered after anything finish published
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=10)
        assert message is not None and message["channel"] == marker.encode()
    finally:
        await pubsub.aclose()


class _SecondLookSignal:
    """The sweep module's ``asyncio``, except that a sleep (the sweep's wait before its
    second look) first sets ``waiting``: the test acts between the two looks on that signal."""

    def __init__(self) -> None:
        self.waiting = asyncio.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(asyncio, name)

    async def sleep(self, seconds: float) -> None:
        self.waiting.set()
        await asyncio.sleep(seconds)


@pytest.fixture
def quick_second_look(monkeypatch: pytest.MonkeyPatch) -> _SecondLookSignal:
    monkeypatch.setattr(sweep_module, "SECOND_LOOK", 0.3)
    signal = _SecondLookSignal()
    monkeypatch.setattr(sweep_module, "asyncio", signal)
    return signal


async def test_sweep_leaves_a_job_its_worker_is_still_taking(
    redis: aioredis.Redis,
    scheduler: Scheduler,
    stream: str,
    quick_second_look: _SecondLookSignal,
) -> None:
    job = await _take(scheduler, stream)  # in the active list, stored status still "queued"
    sweep = asyncio.create_task(scheduler.queue.sweep(lock=1))
    await asyncio.wait_for(quick_second_look.waiting.wait(), 10)  # its first look is done
    await job.update(status=Status.ACTIVE)  # what the worker does next
    assert await sweep == []
    state = await _state(redis, scheduler, job.id)
    assert state["active"] == [job.id.encode()]
    stored = await scheduler.queue.job(job.key)
    assert stored is not None and stored.status == Status.ACTIVE


@pytest.mark.usefixtures("quick_second_look")
async def test_sweep_takes_back_a_job_nobody_marked_active(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)  # and then its worker died
    try:
        assert await scheduler.queue.sweep(lock=1, abort=0.5) == [job.id]
        state = await _state(redis, scheduler, job.id)
        assert state["active"] == []
        retried = await scheduler.queue.job(job.key)
        assert retried is not None and retried.status == Status.QUEUED
        assert state["score"] is not None  # pending again
    finally:
        await redis.delete(job.abort_id)


@pytest.mark.usefixtures("quick_second_look")
async def test_sweep_drops_an_active_entry_whose_job_is_gone(
    redis: aioredis.Redis, scheduler: Scheduler, stream: str
) -> None:
    job = await _take(scheduler, stream)
    await redis.delete(job.id)
    assert await scheduler.queue.sweep(lock=1) == [job.id]
    assert await _state(redis, scheduler, job.id) == {
        "active": [],
        "queued": [],
        "score": None,
        "body": None,
    }

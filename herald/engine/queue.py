"""HeraldQueue: SAQ's Redis queue, with fewer round trips per job and a sweep that waits.

A worker running thousands of streams spends most of its CPU on Redis round trips, so
where SAQ spends several per job this queue spends one, each a script with SAQ's own
semantics:

- Due jobs move into the queue behind a lock of milliseconds, not SAQ's one second, so a
  due poll starts within the worker's ``schedule`` tick.
- A busy worker takes the next job and reads it in one script; it blocks in ``BLMOVE``
  only when the queue is empty.
- Finishing a poll job and enqueueing the stream's next poll are one script
  (:attr:`HeraldQueue.follow_up` supplies the next job), with the checks of SAQ's enqueue.
- No job-status ``PUBLISH``: nothing in herald waits on one (the sweep below polls).

The sweep is SAQ's with one change. SAQ takes a job in the active list whose stored status
is not "active" for one a dead worker dropped; but a worker takes a job and marks it active
in two steps, so a sweep between them caught live polls (about one sweep in two at 10,000
streams), aborted them and re-ran them later with their old plan. Such a job now gets a
second look: only if nothing about it changed meanwhile is it swept.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from saq import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now, now_seconds

from herald.store.codec import text

log = logging.getLogger("herald.queue")

SECOND_LOOK = 1.0
"""Seconds a job that looks dropped is given to show it is not (a live worker needs ms)."""

_SETTLED = frozenset({Status.COMPLETE, Status.FAILED, Status.ABORTED})

_SCHEDULE = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
    local jobs = redis.call('ZRANGEBYSCORE', KEYS[2], 1, ARGV[2])
    for _, v in ipairs(jobs) do
        redis.call('ZADD', KEYS[2], 0, v)
        redis.call('RPUSH', KEYS[3], v)
    end
    return jobs
end
"""

# KEYS: queued, active. The job id moved to active, and its body; nil when none is queued.
_TAKE = """
local id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not id then return nil end
return {id, redis.call('GET', id)}
"""

# KEYS: active, incomplete, job, queued, abort marker; ARGV: next job body, its schedule.
# SAQ's finish of a job that keeps no result, then SAQ's enqueue of the same key.
_FINISH_AND_ENQUEUE = """
redis.call('LREM', KEYS[1], 1, KEYS[3])
redis.call('ZREM', KEYS[2], KEYS[3])
if redis.call('EXISTS', KEYS[5]) == 1 then
    redis.call('DEL', KEYS[3])
    return 0
end
redis.call('SET', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], KEYS[3])
if ARGV[2] == '0' then redis.call('RPUSH', KEYS[4], KEYS[3]) end
return 1
"""

# SAQ's sweep read. KEYS: sweep lock, active; ARGV: lock seconds. {job id, body} pairs.
_SWEEP_READ = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""

FollowUp = Callable[[Job], Job | None]


class HeraldQueue(RedisQueue):
    """SAQ's Redis queue with fewer round trips per job (see module docstring)."""

    def __init__(self, redis: Redis, name: str, **kwargs: Any) -> None:
        super().__init__(redis, name=name, **kwargs)
        self._fast_schedule = redis.register_script(_SCHEDULE)
        self._take = redis.register_script(_TAKE)
        self._finish_and_enqueue = redis.register_script(_FINISH_AND_ENQUEUE)
        self._sweep_read = redis.register_script(_SWEEP_READ)
        self.follow_up: FollowUp | None = None
        """Called as a job completes; the job it returns is enqueued in the same script."""

    async def schedule(self, lock: float = 1) -> list[str]:
        ids = await self._fast_schedule(
            keys=[self._schedule, self._incomplete, self._queued],
            args=[max(int(lock * 1000), 1), now_seconds()],
        )
        return [text(job_id) for job_id in ids or []]

    async def dequeue(self, timeout: float = 0.0, poll_interval: float = 0.0) -> Job | None:
        if await self.version() >= (6, 2, 0):
            taken = await self._take(keys=[self._queued, self._active])
            if taken:
                job: Job | None = self.deserialize(taken[1])
                return job
        return await super().dequeue(timeout, poll_interval)

    async def notify(self, job: Job) -> None:
        return None

    async def _finish(
        self, job: Job, status: Status, *, result: Any = None, error: str | None = None
    ) -> None:
        follow = None
        if self.follow_up is not None and status == Status.COMPLETE and job.ttl < 0:
            follow = self.follow_up(job)
        if follow is None or follow.key != job.key:
            await super()._finish(job, status, result=result, error=error)
            if follow is not None:
                await self.enqueue(follow)
            return
        follow.queue = self
        follow.queued = now()
        follow.status = Status.QUEUED
        await self._finish_and_enqueue(
            keys=[self._active, self._incomplete, job.id, self._queued, job.abort_id],
            args=[self.serialize(follow), follow.scheduled],
        )

    # --- sweep ---------------------------------------------------------------------
    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """SAQ's sweep of dropped and stuck jobs, after a second look (module docstring)."""
        found: dict[bytes, bytes | None] = dict(
            await self._sweep_read(keys=[self._sweep, self._active], args=[lock]) or []
        )
        await self._drop_live(found)
        swept: list[str] = []
        for job_id, body in found.items():
            job = self.deserialize(body)
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    pipe.lrem(self._active, 0, text(job_id))
                    pipe.zrem(self._incomplete, job_id)
                    await pipe.execute()
                log.info("swept job %s: its body is gone", text(job_id))
            elif job.status != Status.ACTIVE or job.stuck:
                log.info("swept job %s (%s): its worker let it go", text(job_id), job.status)
                await self.abort(job, error=self.swept_error_message)
                await self._await_settled(job, abort)
                if job.retryable:
                    await self.retry(job, error=self.swept_error_message)
                else:
                    await self.finish(job, Status.ABORTED, error=self.swept_error_message)
            else:
                continue
            swept.append(text(job_id))
        return swept

    async def _drop_live(self, found: dict[bytes, bytes | None]) -> None:
        """Remove from ``found`` the jobs not marked active that a worker is still taking."""
        unmarked = [
            job_id
            for job_id, body in found.items()
            if (job := self.deserialize(body)) is not None and job.status != Status.ACTIVE
        ]
        if not unmarked:
            return
        await asyncio.sleep(SECOND_LOOK)
        active = set(await self.redis.lrange(self._active, 0, -1))
        bodies = await self.redis.mget(unmarked)
        for job_id, body in zip(unmarked, bodies, strict=True):
            if job_id not in active or body != found[job_id]:
                del found[job_id]

    async def _await_settled(self, job: Job, wait: float) -> None:
        """Give the worker running an aborted job ``wait`` seconds to let go of it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            current = await self.job(job.key)
            if current is None or current.status in _SETTLED:
                return
            await asyncio.sleep(0.1)
        log.info("job %s did not stop within %gs of its abort", job.id, wait)

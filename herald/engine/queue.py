"""HeraldQueue: SAQ's Redis queue, with fewer round trips per job and a heartbeat-aware sweep.

A worker running thousands of streams spends most of its CPU on Redis round trips, so
where SAQ spends several per job this queue spends one, each a script with SAQ's own
semantics:

- Due jobs move into the queue behind a lock of milliseconds, not SAQ's one second, so a
  due poll starts within the worker's ``schedule`` tick.
- A busy worker takes the next job and reads it in one script; it blocks in ``BLMOVE``
  only when the queue is empty.
- Finishing a poll job and enqueueing the stream's next poll are one script
  (:attr:`HeraldQueue.follow_up` supplies the next job), with the checks of SAQ's enqueue.
- No job-status ``PUBLISH``: nothing in herald waits on one (the sweep reads).

The sweep (:mod:`herald.engine.sweep`) knows dead workers by their heartbeats and gives
their jobs back at once, all of them together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from saq import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now, now_seconds

from herald.engine.liveness import Liveness
from herald.engine.sweep import Sweeper
from herald.store.codec import text

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

FollowUp = Callable[[Job], Job | None]


class HeraldQueue(RedisQueue):
    """SAQ's Redis queue with fewer round trips per job (see module docstring)."""

    def __init__(self, redis: Redis, name: str, liveness: Liveness, **kwargs: Any) -> None:
        super().__init__(redis, name=name, **kwargs)
        self._sweeper = Sweeper(self, liveness)
        self._fast_schedule = redis.register_script(_SCHEDULE)
        self._take = redis.register_script(_TAKE)
        self._finish_and_enqueue = redis.register_script(_FINISH_AND_ENQUEUE)
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

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        """Give back every job no live worker is running (:mod:`herald.engine.sweep`)."""
        return await self._sweeper.sweep(lock, abort)

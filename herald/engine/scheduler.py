"""Scheduling on SAQ: exactly one pending job per active stream, keyed ``poll:{id}``.

SAQ's job keys make enqueueing idempotent: while a stream's job is pending or running,
enqueueing it again is a no-op, so the reconciler can re-create lost jobs without fear.
A few departures from stock SAQ, for latency and for the Redis round trips per poll (a
worker running thousands of streams spends most of its CPU on those):

- SAQ moves due jobs into the queue at most once a second (a one-second ``SETEX`` lock);
  :class:`HeraldQueue` takes that lock in milliseconds, so due polls start within
  ``schedule_tick`` instead of within a second.
- Cancelling a job that is not running removes it outright, instead of SAQ's abort
  marker, which would refuse a re-enqueue (a quick pause → resume) for five seconds.
- A worker that is busy takes the next job and reads it in one script; it blocks in
  ``BLMOVE`` only when the queue is empty.
- Finishing a poll job and enqueueing the stream's next poll are one script
  (:attr:`HeraldQueue.follow_up` supplies the next job), with the same checks as
  SAQ's enqueue.
- No job-status ``PUBLISH``: nothing in herald waits on a job's status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from saq import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now, now_seconds

from herald.store.codec import text
from herald.store.keys import Keys, poll_job_key

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

# KEYS: incomplete, queued, active, job; returns 1 removed, 0 running, -1 absent
_CANCEL = """
if redis.call('LPOS', KEYS[3], KEYS[4]) then return 0 end
local removed = redis.call('ZREM', KEYS[1], KEYS[4])
redis.call('LREM', KEYS[2], 0, KEYS[4])
redis.call('DEL', KEYS[4])
if removed == 1 then return 1 end
return -1
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

    def __init__(self, redis: Redis, name: str, **kwargs: Any) -> None:
        super().__init__(redis, name=name, **kwargs)
        self._fast_schedule = redis.register_script(_SCHEDULE)
        self._take = redis.register_script(_TAKE)
        self._finish_and_enqueue = redis.register_script(_FINISH_AND_ENQUEUE)
        self.follow_up: FollowUp | None = None
        """Called as a job completes; the job it returns is enqueued in the same script."""

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

    async def schedule(self, lock: float = 1) -> list[str]:
        ids = await self._fast_schedule(
            keys=[self._schedule, self._incomplete, self._queued],
            args=[max(int(lock * 1000), 1), now_seconds()],
        )
        return [text(job_id) for job_id in ids or []]


class Scheduler:
    """Enqueue, cancel and inspect the poll job of each stream."""

    def __init__(self, redis: Redis, keys: Keys, *, job_timeout: float) -> None:
        self.queue = HeraldQueue(redis, name=keys.queue_name)
        self._redis = redis
        self._job_timeout = max(int(job_timeout) + 1, 2)
        self._cancel = redis.register_script(_CANCEL)

    def poll_job(self, stream_id: str, at: float) -> Job:
        """The job that polls ``stream_id`` at ``at`` (epoch seconds)."""
        return Job(
            function="poll",
            key=poll_job_key(stream_id),
            kwargs={"stream_id": stream_id, "planned": at},
            scheduled=max(at, 0.001),  # type: ignore[arg-type]  # SAQ accepts float seconds
            timeout=self._job_timeout,
            retries=1,
            ttl=-1,
        )

    async def schedule(self, stream_id: str, at: float) -> bool:
        """Enqueue the stream's poll at ``at``; False if one is pending."""
        return await self.queue.enqueue(self.poll_job(stream_id, at)) is not None

    async def cancel(self, stream_id: str) -> str:
        """Drop the pending job: ``removed``, ``running`` (left to finish) or ``absent``."""
        job_id = self.queue.job_id(poll_job_key(stream_id))
        q = self.queue
        code = await self._cancel(keys=[q._incomplete, q._queued, q._active, job_id], args=[])
        return {1: "removed", 0: "running", -1: "absent"}[int(code)]

    async def reschedule(self, stream_id: str, at: float) -> bool:
        await self.cancel(stream_id)
        return await self.schedule(stream_id, at)

    async def pending(self, stream_ids: list[str]) -> dict[str, bool]:
        """Which of these streams have a job waiting or running."""
        if not stream_ids:
            return {}
        job_ids = [self.queue.job_id(poll_job_key(sid)) for sid in stream_ids]
        scores = await self._redis.zmscore(self.queue._incomplete, job_ids)
        return {sid: score is not None for sid, score in zip(stream_ids, scores, strict=True)}

    async def planned_at(self, stream_id: str) -> float | None:
        score = await self._redis.zscore(
            self.queue._incomplete, self.queue.job_id(poll_job_key(stream_id))
        )
        return float(score) if score is not None else None

    async def aclose(self) -> None:
        await self.queue._pubsub.close()

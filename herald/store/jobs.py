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
their jobs back at once, all of them together; it works through the primitives here
(``sweep_read``, ``put_back``, ``drop``), each one script or transaction. The scheduler's
``cancel``, ``pending`` and ``planned_at`` are here too: every queue key and script lives in
the store.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
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

# SAQ's sweep read, with a lock in ms. KEYS: sweep lock, active; ARGV: lock ms.
_SWEEP_READ = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SET', KEYS[1], 1, 'PX', ARGV[1])
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""

# Put a job back, due now, if it is still active with the body read. KEYS: active,
# incomplete, queued, job; ARGV: the body read, the new body. 1 if put back.
_PUT_BACK = """
if redis.call('GET', KEYS[4]) ~= ARGV[1] then return 0 end
if redis.call('LREM', KEYS[1], 0, KEYS[4]) == 0 then return 0 end
redis.call('SET', KEYS[4], ARGV[2])
redis.call('ZADD', KEYS[2], 0, KEYS[4])
redis.call('LREM', KEYS[3], 0, KEYS[4])
redis.call('RPUSH', KEYS[3], KEYS[4])
return 1
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

FollowUp = Callable[[Job], Job | None]
Sweep = Callable[[float, float], Awaitable[list[str]]]


class HeraldQueue(RedisQueue):
    """SAQ's Redis queue with fewer round trips per job (see module docstring)."""

    def __init__(self, redis: Redis, keys: Keys, **kwargs: Any) -> None:
        super().__init__(redis, name=keys.queue_name, **kwargs)
        self._fast_schedule = redis.register_script(_SCHEDULE)
        self._take = redis.register_script(_TAKE)
        self._finish_and_enqueue = redis.register_script(_FINISH_AND_ENQUEUE)
        self._sweep_read = redis.register_script(_SWEEP_READ)
        self._put_back = redis.register_script(_PUT_BACK)
        self._cancel = redis.register_script(_CANCEL)
        self.follow_up: FollowUp | None = None
        """Called as a job completes; the job it returns is enqueued in the same script."""
        self.sweeper: Sweep | None = None
        """The sweep (``lock``, ``abort``) run by SAQ's sweep timer; SAQ's own when None."""

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
        if self.sweeper is None:
            return await super().sweep(lock, abort)
        return await self.sweeper(lock, abort)

    # --- the sweep's primitives ---------------------------------------------------------
    async def sweep_read(self, lock: float) -> dict[bytes, bytes | None]:
        """Every job of the active list and its body, behind a sweep lock of ``lock`` s;
        empty while another sweep holds that lock."""
        found = await self._sweep_read(
            keys=[self._sweep, self._active], args=[max(int(lock * 1000), 1)]
        )
        return dict(found or [])

    async def put_back(self, job_id: bytes, body: bytes, job: Job) -> bool:
        """Put ``job`` (changed by the caller) back at the head of the queue, due now, if it
        is still active with the ``body`` read."""
        keys = [self._active, self._incomplete, self._queued, text(job_id)]
        return bool(await self._put_back(keys=keys, args=[body, self.serialize(job)]))

    async def drop(self, job_id: bytes) -> None:
        """Remove a job whose body is gone from the active list and the schedule."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lrem(self._active, 0, text(job_id))
            pipe.zrem(self._incomplete, job_id)
            await pipe.execute()

    # --- the scheduler's view of poll jobs ------------------------------------------------
    async def cancel_poll(self, stream_id: str) -> str:
        """Drop the stream's pending job: ``removed``, ``running`` (left alone) or ``absent``."""
        job_id = self.job_id(poll_job_key(stream_id))
        keys = [self._incomplete, self._queued, self._active, job_id]
        code = await self._cancel(keys=keys, args=[])
        return {1: "removed", 0: "running", -1: "absent"}[int(code)]

    async def pending_polls(self, stream_ids: Sequence[str]) -> dict[str, bool]:
        """Which of these streams have a job waiting or running."""
        if not stream_ids:
            return {}
        job_ids = [self.job_id(poll_job_key(sid)) for sid in stream_ids]
        scores = await self.redis.zmscore(self._incomplete, job_ids)
        return {sid: score is not None for sid, score in zip(stream_ids, scores, strict=True)}

    async def planned_at(self, stream_id: str) -> float | None:
        """When the stream's pending job is due (epoch s), if it has one."""
        score = await self.redis.zscore(self._incomplete, self.job_id(poll_job_key(stream_id)))
        return float(score) if score is not None else None

    async def aclose_pubsub(self) -> None:
        await self._pubsub.close()

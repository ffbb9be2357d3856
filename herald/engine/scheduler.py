"""Scheduling on SAQ: exactly one pending job per active stream, keyed ``poll:{id}``.

SAQ's job keys make enqueueing idempotent: while a stream's job is pending or running,
enqueueing it again is a no-op, so the reconciler can re-create lost jobs without fear.
Cancelling a job that is not running removes it outright, instead of SAQ's abort marker,
which would refuse a re-enqueue (a quick pause → resume) for five seconds. The queue
itself is :class:`herald.engine.queue.HeraldQueue`; its sweep asks
:class:`herald.engine.liveness.Liveness` which workers are alive.
"""

from __future__ import annotations

from redis.asyncio import Redis
from saq import Job

from herald.engine.liveness import Liveness
from herald.engine.queue import HeraldQueue
from herald.store.keys import Keys, poll_job_key

# KEYS: incomplete, queued, active, job; returns 1 removed, 0 running, -1 absent
_CANCEL = """
if redis.call('LPOS', KEYS[3], KEYS[4]) then return 0 end
local removed = redis.call('ZREM', KEYS[1], KEYS[4])
redis.call('LREM', KEYS[2], 0, KEYS[4])
redis.call('DEL', KEYS[4])
if removed == 1 then return 1 end
return -1
"""


class Scheduler:
    """Enqueue, cancel and inspect the poll job of each stream."""

    def __init__(self, redis: Redis, keys: Keys, *, job_timeout: float) -> None:
        self.liveness = Liveness(redis, keys)
        self.queue = HeraldQueue(redis, name=keys.queue_name, liveness=self.liveness)
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

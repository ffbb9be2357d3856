"""Scheduling on SAQ: exactly one pending job per active stream, keyed ``poll:{id}``.

SAQ's job keys make enqueueing idempotent: while a stream's job is pending or running,
enqueueing it again is a no-op, so the reconciler can re-create lost jobs without fear.
Cancelling a job that is not running removes it outright, instead of SAQ's abort marker,
which would refuse a re-enqueue (a quick pause → resume) for five seconds. The queue
itself is :class:`herald.store.jobs.HeraldQueue` (every queue key and script lives in the
store); its sweep (:mod:`herald.engine.sweep`) asks
:class:`herald.engine.liveness.Liveness` which workers are alive.
"""

from __future__ import annotations

from saq import Job

from herald.engine.liveness import Liveness
from herald.engine.sweep import Sweeper
from herald.store.jobs import HeraldQueue
from herald.store.keys import poll_job_key


class Scheduler:
    """Enqueue, cancel and inspect the poll job of each stream."""

    def __init__(self, queue: HeraldQueue, liveness: Liveness, *, job_timeout: float) -> None:
        self.liveness = liveness
        self.queue = queue
        queue.sweeper = Sweeper(queue, liveness).sweep
        self._job_timeout = max(int(job_timeout) + 1, 2)

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
        return await self.queue.cancel_poll(stream_id)

    async def reschedule(self, stream_id: str, at: float) -> bool:
        await self.cancel(stream_id)
        return await self.schedule(stream_id, at)

    async def pending(self, stream_ids: list[str]) -> dict[str, bool]:
        """Which of these streams have a job waiting or running."""
        return await self.queue.pending_polls(stream_ids)

    async def planned_at(self, stream_id: str) -> float | None:
        return await self.queue.planned_at(stream_id)

    async def aclose(self) -> None:
        await self.queue.aclose_pubsub()

"""The poll worker: a SAQ worker whose one job runs a poll and schedules the next.

The next poll is enqueued in the same script that finishes the current job (the queue's
``follow_up``); SAQ's ``after_process`` hook enqueues it when that did not happen (a job
that failed in SAQ's hands). If a worker dies between a poll and its finish, the
reconciler notices the missing job and re-creates it.

If it dies mid-poll, its heartbeat tells: the worker renews a key with a short TTL
(``HERALD_WORKER_HEARTBEAT_TTL``) five times per TTL, and records the token of every poll
lock its process takes. Once the key has expired, the next sweep (every
``HERALD_SWEEP_INTERVAL``) frees the dead poll's lock and runs its job again at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

from saq import Job, Worker
from saq.types import Context, PartialTimersDict

from herald import metrics
from herald.engine.poller import Poller
from herald.engine.scheduler import Scheduler
from herald.push.control import is_push
from herald.store.streams import ACTIVE, StreamStore

log = logging.getLogger("herald.worker")


class PollWorker:
    def __init__(
        self,
        scheduler: Scheduler,
        poller: Poller,
        store: StreamStore,
        *,
        concurrency: int,
        reconcile_interval: float,
        schedule_tick: float = 0.1,
        sweep_interval: float = 1.0,
        heartbeat_ttl: float = 5.0,
        shutdown_grace: int = 30,
    ) -> None:
        self.id = secrets.token_hex(6)
        """This worker's id: in its jobs (SAQ's ``worker_id``) and its heartbeat key."""
        self._scheduler = scheduler
        self._poller = poller
        self._store = store
        self._reconcile_interval = reconcile_interval
        self._next_polls: dict[str, float] = {}
        self._heartbeat_ttl = heartbeat_ttl
        timers: PartialTimersDict = {"schedule": schedule_tick, "sweep": sweep_interval, "abort": 1}  # type: ignore[typeddict-item]
        self._worker: Worker[Context] = Worker(
            scheduler.queue,
            id=self.id,
            functions=[("poll", self._poll_job)],
            concurrency=concurrency,
            after_process=self._after_process,
            timers=timers,
            shutdown_grace_period_s=shutdown_grace,
            dequeue_timeout=0.5,  # an idle dequeue returns soon, so it never holds up a stop
        )
        self._worker.SIGNALS = []  # the hosting process owns its signals, not SAQ
        scheduler.queue.follow_up = self._follow_up
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self.last_beat = time.monotonic()

    async def _poll_job(self, ctx: Context, *, stream_id: str, planned: float) -> str:
        metrics.SCHEDULE_LAG.observe(max(time.time() - planned, 0.0))
        self.last_beat = time.monotonic()
        outcome = await self._poller.poll(stream_id)
        if outcome.next_poll is not None:
            self._next_polls[stream_id] = outcome.next_poll
        return outcome.outcome

    def _follow_up(self, job: Job) -> Job | None:
        stream_id = (job.kwargs or {}).get("stream_id")
        next_poll = self._next_polls.pop(stream_id, None) if stream_id else None
        if stream_id is None or next_poll is None:
            return None
        return self._scheduler.poll_job(stream_id, next_poll)

    async def _after_process(self, ctx: Context) -> None:
        """Enqueue the next poll where the finish script did not (a job SAQ failed)."""
        job = ctx.get("job")
        follow = self._follow_up(job) if job is not None else None
        if follow is not None:
            await self._scheduler.queue.enqueue(follow)

    async def start(self) -> None:
        """Beat once before taking any job, so no sweep can take this worker for dead."""
        await self._scheduler.liveness.beat(self.id, self._heartbeat_ttl)
        self._store.lock_holder = self.id
        self._tasks = [
            asyncio.create_task(self._beat_forever(), name="herald-heartbeat"),
            asyncio.create_task(self._worker.start(), name="herald-worker"),
            asyncio.create_task(self._reconcile_forever(), name="herald-reconciler"),
        ]

    async def stop(self) -> None:
        """Graceful: no new polls start; those in flight get ``shutdown_grace`` seconds to
        finish (they are bounded by the poll timeout), then are cancelled, which releases
        their lock and puts their job back in the queue for another worker.

        SAQ's grace period would also wait out its upkeep loops' sleeps (up to 10 s), so
        those are cancelled first; only the polls get the grace period."""
        self._stopping = True
        self._worker.event.set()
        for task in list(self._worker.tasks):
            if task.get_name() != "process":  # SAQ's upkeep loops
                task.cancel()
        await self._worker.stop()
        for task in self._tasks:  # the heartbeat too, now that no poll of ours is left
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self._store.lock_holder == self.id:
            self._store.lock_holder = None
        with contextlib.suppress(Exception):
            await self._scheduler.liveness.forget(self.id)

    @property
    def alive(self) -> bool:
        return bool(self._tasks) and not any(t.done() for t in self._tasks)

    async def reconcile(self) -> int:
        """Re-create the job of every active stream that has none; returns how many.

        One pass asks Redis which jobs exist for all ids at once, and reads only the streams
        without one, so its cost does not grow with the number of healthy streams."""
        ids = await self._store.ids()
        pending = await self._scheduler.pending(ids)
        created = 0
        now = time.time()
        for stream_id in (sid for sid in ids if not pending[sid]):
            record = await self._store.get(stream_id)
            if record is None or record.status != ACTIVE or is_push(record.type):
                continue  # a push stream has no poll job: the push runtime serves it
            if await self._scheduler.schedule(stream_id, max(record.next_poll or now, now)):
                created += 1
        if created:
            log.info("reconciler re-created %d missing poll job(s)", created)
        return created

    async def _beat_forever(self) -> None:
        liveness, ttl = self._scheduler.liveness, self._heartbeat_ttl
        while True:
            await asyncio.sleep(ttl / 5)
            try:
                if not await liveness.beat(self.id, ttl):
                    log.error(
                        "worker %s renewed its heartbeat after it had expired: a sweep may "
                        "have taken it for dead and run its polls elsewhere",
                        self.id,
                    )
            except Exception:
                log.exception("heartbeat of worker %s failed; retrying", self.id)

    async def _reconcile_forever(self) -> None:
        locks = self._scheduler.liveness.locks
        lease = int(self._reconcile_interval * 1000)
        while not self._stopping:
            try:
                if await locks.lease("reconcile", lease):
                    await self.reconcile()
            except Exception:
                log.exception("reconciler pass failed; retrying")
            await asyncio.sleep(self._reconcile_interval)

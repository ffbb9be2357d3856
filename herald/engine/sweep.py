"""The sweep: give back the jobs of the active list that no live worker is running.

SAQ's sweep took a job for dropped when its status was not "active", or once it had run
past its timeout, and then handled such jobs one after another, giving each dead worker
five seconds to let go. With workers killed every few seconds, a stream waited for minutes.
This sweep sorts the active list in one pass and handles every kind at once:

- **Orphans**: marked active by a worker whose heartbeat has expired (``Liveness``). The
  worker is dead; its job is put back at the head of the queue at once, after its poll's
  lock is freed if that dead poll still holds it.
- **Unmarked**: not yet marked active. A worker takes a job and marks it in two steps, so
  a live one may be between them; such a job is put back only if nothing about it changed
  for ``SECOND_LOOK`` seconds (a live worker needs milliseconds).
- **Stuck**: run by a live worker past its timeout: aborted as SAQ does, then retried.
- **Gone**: the job's body expired; the entry is dropped.

Putting a job back is one script (``HeraldQueue.put_back``) that first checks the job is
still in the active list with the body the sweep read, so overlapping sweeps, or a worker
that moved on, are safe. Every key and script of the queue lives in the store.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from saq import Job, Status
from saq.utils import now

from herald.engine.liveness import Liveness
from herald.store.codec import text

if TYPE_CHECKING:
    from herald.store.jobs import HeraldQueue

log = logging.getLogger("herald.queue")

SECOND_LOOK = 1.0
"""Seconds a job that looks dropped is given to show it is not (a live worker needs ms)."""

ORPHANED = "swept: its worker died"

_SETTLED = frozenset({Status.COMPLETE, Status.FAILED, Status.ABORTED})


class Sweeper:
    """One sweep pass over a queue's active list (module docstring)."""

    def __init__(self, queue: HeraldQueue, liveness: Liveness) -> None:
        self._q = queue
        self._liveness = liveness

    async def sweep(self, lock: float, abort: float) -> list[str]:
        """Handle every job no live worker is running; their ids. ``lock`` (seconds) keeps
        other processes' sweeps away meanwhile."""
        q = self._q
        found = await q.sweep_read(lock)
        gone: list[bytes] = []
        unmarked: list[tuple[bytes, bytes]] = []
        marked: list[tuple[bytes, bytes, Job]] = []
        for job_id, body in found.items():
            job = q.deserialize(body)
            if body is None or job is None:
                gone.append(job_id)
            elif job.status != Status.ACTIVE:
                unmarked.append((job_id, body))
            else:
                marked.append((job_id, body, job))
        alive = await self._liveness.alive(j.worker_id for _, _, j in marked if j.worker_id)
        orphans = [(i, b, j) for i, b, j in marked if j.worker_id and j.worker_id not in alive]
        stuck = [j for _, _, j in marked if (not j.worker_id or j.worker_id in alive) and j.stuck]
        done = await asyncio.gather(
            self._drop(gone),
            *(self._rerun_orphan(*orphan) for orphan in orphans),
            self._second_look(unmarked),
            *(self._abort_stuck(job, abort) for job in stuck),
        )
        return [text(job_id) for ids in done for job_id in ids]

    async def _drop(self, gone: list[bytes]) -> list[bytes]:
        for job_id in gone:
            await self._q.drop(job_id)
            log.info("swept job %s: its body is gone", text(job_id))
        return gone

    async def _rerun_orphan(self, job_id: bytes, body: bytes, job: Job) -> list[bytes]:
        worker = job.worker_id or ""
        stream_id = (job.kwargs or {}).get("stream_id")
        freed = False
        if isinstance(stream_id, str):
            freed = await self._liveness.free_lock(worker, stream_id)
        if not await self._requeue(job_id, body, job):
            return []
        log.warning(
            "worker %s is gone: job %s runs again now%s",
            worker,
            text(job_id),
            " (its poll's lock freed)" if freed else "",
        )
        return [job_id]

    async def _second_look(self, unmarked: list[tuple[bytes, bytes]]) -> list[bytes]:
        if not unmarked:
            return []
        await asyncio.sleep(SECOND_LOOK)
        swept: list[bytes] = []
        for job_id, body in unmarked:
            job = self._q.deserialize(body)
            if job is not None and await self._requeue(job_id, body, job):
                log.info("swept job %s (%s): its worker let it go", text(job_id), job.status)
                swept.append(job_id)
        return swept

    async def _requeue(self, job_id: bytes, body: bytes, job: Job) -> bool:
        """Put ``job`` back at the head of the queue if it is unchanged since read."""
        job.status = Status.QUEUED
        job.error = ORPHANED
        job.worker_id = None
        job.attempts = 0  # a worker's death is not the job's failure
        job.started = job.completed = 0
        job.touched = job.queued = now()
        return await self._q.put_back(job_id, body, job)

    async def _abort_stuck(self, job: Job, wait: float) -> list[bytes]:
        """SAQ's handling of a job run past its timeout by a live worker."""
        q = self._q
        log.info("swept job %s: it ran past its timeout", job.id)
        await q.abort(job, error=q.swept_error_message)
        await self._await_settled(job, wait)
        if job.retryable:
            await q.retry(job, error=q.swept_error_message)
        else:
            await q.finish(job, Status.ABORTED, error=q.swept_error_message)
        return [job.id.encode()]

    async def _await_settled(self, job: Job, wait: float) -> None:
        """Give the worker running an aborted job ``wait`` seconds to let go of it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        while loop.time() < deadline:
            current = await self._q.job(job.key)
            if current is None or current.status in _SETTLED:
                return
            await asyncio.sleep(0.1)
        log.info("job %s did not stop within %gs of its abort", job.id, wait)

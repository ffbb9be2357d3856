"""The archive writer: a consumer group on the global log that copies every event into the
archive, in batches, off the delivery path.

One process at a time writes (a lease; others stand by and take over when it dies). Each
batch is inserted, then acknowledged: a writer killed in between leaves the batch pending,
the next owner claims and inserts it again, and the insert skips eventIds it already has.
A writer that was down catches up from where its group stopped, as long as the log still
holds those entries (``lag`` in status and metrics says how far behind it is). Retention
is enforced here too: every ``HERALD_ARCHIVE_PURGE_INTERVAL`` the owner deletes what is
older than ``HERALD_ARCHIVE_RETENTION_DAYS``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable

from redis.exceptions import RedisError

from herald import metrics
from herald.archive.base import Archive, ArchivedEvent
from herald.archive.records import record_of_entry
from herald.errors import HeraldError
from herald.store.archive import ArchiveLogStore

log = logging.getLogger("herald.archive")
DAY_MS = 86_400_000
MAINTAIN_EVERY = 2.0
"""Seconds between two lag reports while batches keep coming."""


class ArchiveWriter:
    def __init__(
        self,
        archive: Archive,
        store: ArchiveLogStore,
        *,
        worker_id: str = "",
        batch_size: int = 1000,
        lease_ttl: float = 5.0,
        block: float = 0.5,
        retention_days: float = 90,
        purge_interval: float = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.archive = archive
        self._store = store
        self.owner = f"{worker_id or 'w'}:{uuid.uuid4().hex[:12]}"
        self._batch = batch_size
        self._ttl = lease_ttl
        self._block_ms = max(int(block * 1000), 1)
        self._retention_ms = int(retention_days * DAY_MS)
        self._purge_every = purge_interval
        self._clock = clock
        self._stopping = asyncio.Event()
        self._lost = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._purged_at = 0.0
        self._maintained_at = 0.0
        self.owning = False
        self.archived = 0
        self.skipped = 0

    # --- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        await self._store.ensure_group()
        self._task = asyncio.create_task(self.run(), name="archive-writer")

    async def stop(self, grace: float = 5.0) -> None:
        self._stopping.set()
        task, self._task = self._task, None
        if task is None:
            return
        _, late = await asyncio.wait([task], timeout=grace)
        for t in late:
            t.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def _rest(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # --- owning the writer whenever the lease can be had --------------------------------
    async def run(self) -> None:
        try:
            while not self._stopping.is_set():
                try:
                    if not await self._store.acquire(self.owner, self._ttl):
                        await self._rest(self._ttl / 3)
                        continue
                    await self._own()
                except (RedisError, OSError, HeraldError) as exc:
                    log.warning("archive writer: %s; retrying", exc)
                    with contextlib.suppress(RedisError, OSError):
                        await self._store.set_state({"lastError": str(exc)[:500]})
                    await self._rest(1.0)
                except Exception:  # a bug must not end the writer for good
                    log.exception("archive writer: batch failed; retrying")
                    await self._rest(1.0)
                finally:
                    self.owning = False
                    metrics.ARCHIVE_WRITING.set(0)
        finally:
            with contextlib.suppress(RedisError, OSError, RuntimeError):
                await self._store.release(self.owner)

    async def _renew(self) -> None:
        while not self._stopping.is_set():
            await self._rest(self._ttl / 3)
            if not await self._store.renew(self.owner, self._ttl):
                self._lost.set()
                return

    async def _own(self) -> None:
        self.owning = True
        self._lost.clear()
        metrics.ARCHIVE_WRITING.set(1)
        renew = asyncio.create_task(self._renew(), name="archive-lease")
        try:
            await self._store.claim_pending(self.owner)
            pending = True
            while not self._stopping.is_set() and not self._lost.is_set():
                got = await self._store.read(
                    self.owner, self._batch, pending=pending, block_ms=self._block_ms
                )
                if not got.entries:
                    if pending:
                        pending = False
                        continue
                    await self._maintain()
                    continue
                await self._write(got.entries)
                await self._store.ack(got.ids)
                if self._clock() - self._maintained_at >= MAINTAIN_EVERY:
                    await self._maintain()  # lag and purge stay current under load too
            if self._lost.is_set():
                log.warning("archive writer: lease lost; another process writes now")
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew

    async def _write(self, entries: list[tuple[str, bytes | None]]) -> None:
        records: list[ArchivedEvent] = []
        for offset, body in entries:
            record = record_of_entry(offset, body) if body is not None else None
            if record is None:
                self.skipped += 1
                continue
            records.append(record)
        inserted = await self.archive.insert_many(records)
        self.archived += inserted
        metrics.ARCHIVED.inc(inserted)
        await self._store.incr("archived", inserted)
        await self._store.set_state(
            {"lastOffset": entries[-1][0], "lastBatchAt": repr(self._clock()), "lastError": ""}
        )

    async def _maintain(self) -> None:
        """Between batches: the lag, and the retention purge when it is due."""
        self._maintained_at = self._clock()
        lag = await self._store.lag()
        if lag is not None:
            metrics.ARCHIVE_LAG.set(lag)
        await self._store.set_state({"lag": "" if lag is None else str(lag)})
        now = self._clock()
        if self._retention_ms and now - self._purged_at >= self._purge_every:
            self._purged_at = now
            purged = await self.archive.purge(int(now * 1000) - self._retention_ms)
            await self._store.set_state({"lastPurge": repr(now), "purged": str(purged)})
            if purged:
                log.info("archive: %d events past retention purged", purged)

"""The one ``XREAD BLOCK`` loop per node on the global event log.

The tail resolves "the current end" to a concrete offset once, when it starts, and from
then on always reads strictly after the last offset it handed out. A Redis error only
pauses it (with capped exponential backoff); it resumes at the same position, so a node
never skips an event that the log still holds.

Batches are handed to a synchronous callback: fan-out only queues bytes, so it never
awaits, and :attr:`position` is exact at every point where another coroutine can run. The
replay path relies on that to splice history and live events without a seam.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from redis.exceptions import RedisError

from herald.store.logentry import Entry, OffsetKey, format_offset, offset_key
from herald.store.logreader import LogReader

log = logging.getLogger(__name__)

Dispatch = Callable[[list[Entry]], None]


class LogTail:
    """Reads the global log from the end it finds at start and dispatches every batch."""

    def __init__(
        self,
        reader: LogReader,
        dispatch: Dispatch,
        *,
        block_ms: int = 1000,
        count: int = 1000,
        max_backoff: float = 5.0,
    ) -> None:
        self._reader = reader
        self._dispatch = dispatch
        self._block_ms = block_ms
        self._count = count
        self._max_backoff = max_backoff
        self._task: asyncio.Task[None] | None = None
        self._started = asyncio.Event()
        self.position: OffsetKey = (0, 0)
        self.connected = False
        self.last_read = 0.0

    @property
    def offset(self) -> str:
        return format_offset(self.position)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Resolve the current end of the log, then tail from there in the background."""
        if self._task is not None:
            return
        self._task = asyncio.create_task(self._run(), name="herald-log-tail")
        await self._started.wait()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        backoff = 0.05
        resolved = False
        while True:
            try:
                if not resolved:
                    self.position = offset_key(await self._reader.end())
                    resolved = True
                    # Redis answered: healthy now, not only once the first blocking read returns.
                    self.connected = True
                    self.last_read = time.monotonic()
                    self._started.set()
                await self._read_once()
                backoff = 0.05
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                self.connected = False
                log.warning("event log tail: %s; retrying in %.2fs", exc, backoff)
                if not resolved:
                    # Let start() return; position stays unresolved until Redis answers.
                    self._started.set()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self._max_backoff)

    async def _read_once(self) -> None:
        batch = await self._reader.wait(self.offset, self._count, self._block_ms)
        self.connected = True
        self.last_read = time.monotonic()
        if not batch:
            return
        # Advance before dispatching: a dispatch error must not make us re-send the batch.
        self.position = batch[-1].key
        try:
            self._dispatch(batch)
        except Exception:
            log.exception("event fan-out failed for %d events", len(batch))

"""``set_io``: mirror every event to an external python-socketio server, as the seed did.

The external server's ``emit`` awaits, so events go through one bounded queue and one
task; if that server cannot keep up, the oldest pending events are dropped (and logged)
rather than letting memory grow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from herald.delivery.entry import Entry

log = logging.getLogger(__name__)


class ExternalEmitter:
    def __init__(self, server: Any, maxsize: int) -> None:
        self.server = server
        self._queue: asyncio.Queue[Entry] = asyncio.Queue(maxsize=maxsize)
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="herald-external-emit")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def dispatch(self, batch: list[Entry]) -> None:
        for entry in batch:
            if self._queue.full():
                self._queue.get_nowait()
                self.dropped += 1
                if self.dropped % 1000 == 1:
                    log.warning("external Socket.IO server is behind; %d dropped", self.dropped)
            self._queue.put_nowait(entry)

    async def _run(self) -> None:
        while True:
            entry = await self._queue.get()
            try:
                await self.server.emit(entry.type, entry.body)
            except Exception:
                log.exception("emit to the external Socket.IO server failed")

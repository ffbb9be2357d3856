"""Presence: "N watching", the live clients of every node sharing the store.

Each node reports its own connection counts (Socket.IO, ``/ws``, SSE) every
``HERALD_PRESENCE_INTERVAL`` seconds with a lease of three intervals, so a node killed
without a word drops out on its own. ``GET /api/presence`` reports this node's current
counts first, so what it answers is fresh for the node asked and at most one interval old
for the others. No event goes into the log for it: presence is a state, not a history.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable, Mapping
from typing import Any

from redis.exceptions import RedisError

from herald.errors import HeraldError
from herald.store.presence import Counts, PresenceStore

log = logging.getLogger("herald.presence")

#: A node's report lives this many intervals: one missed report is not a departure.
LEASE_INTERVALS = 3


def node_id() -> str:
    """Unique per process, readable in Redis: ``host:pid:random``."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Presence:
    """Reports ``count()`` for this node on a timer; answers the total across nodes."""

    def __init__(
        self,
        store: PresenceStore,
        count: Callable[[], Mapping[str, int]],
        interval: float,
        node: str | None = None,
    ) -> None:
        self._store = store
        self._count = count
        self.interval = interval
        self.node = node or node_id()
        self._task: asyncio.Task[None] | None = None

    @property
    def lease(self) -> float:
        return self.interval * LEASE_INTERVALS

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="herald-presence")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with contextlib.suppress(HeraldError, RedisError, OSError):
            await self._store.forget(self.node)

    async def _run(self) -> None:
        while True:
            try:
                await self._store.report(self.node, self._count(), self.lease)
            except (HeraldError, RedisError, OSError) as exc:
                # Redis is away: the lease lapses, and the next report puts the node back.
                log.warning("presence report failed: %s", type(exc).__name__)
            except Exception:
                log.exception("presence report failed")
            await asyncio.sleep(self.interval)

    async def snapshot(self) -> dict[str, Any]:
        """``{watching, nodes, transports, interval}``: this node's counts reported now."""
        nodes = await self._store.report(self.node, self._count(), self.lease)
        return summarize(nodes, self.interval)


def summarize(nodes: Mapping[str, Counts], interval: float) -> dict[str, Any]:
    transports: dict[str, int] = {}
    for counts in nodes.values():
        for transport, n in counts.items():
            transports[transport] = transports.get(transport, 0) + n
    return {
        "watching": sum(transports.values()),
        "nodes": len(nodes),
        "transports": dict(sorted(transports.items())),
        "interval": interval,
    }

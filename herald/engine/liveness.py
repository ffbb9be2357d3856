"""Which workers are alive, and freeing the poll lock of one that is not.

Every worker keeps a heartbeat (:class:`herald.store.heartbeats.HeartbeatStore`) with a short
TTL and renews it well within that TTL; a worker killed with ``kill -9`` stops renewing, and
its heartbeat expires. The sweep treats a job whose worker has no heartbeat as orphaned and
runs it again at once, instead of waiting for it to time out as stuck.

The orphan's poll may still hold the stream's lock (its lease is 1.5 times the poll timeout).
A worker's process records, per stream, the token of the last lock it asked for
(``StreamStore.lock_holder``); the sweep deletes a lock only while it still holds exactly
that token (:meth:`herald.store.locks.LockStore.free_dead`), so a lock taken by any live
poll (another worker, a "poll now") is never touched and at most one poll of a stream stays
in flight.
"""

from __future__ import annotations

from collections.abc import Iterable

from herald.store.heartbeats import HeartbeatStore
from herald.store.locks import LockStore


class Liveness:
    """Workers' heartbeats and their poll locks, as the worker and the sweep see them."""

    def __init__(self, heartbeats: HeartbeatStore, locks: LockStore) -> None:
        self._beats = heartbeats
        self.locks = locks

    async def beat(self, worker_id: str, ttl: float) -> bool:
        """Renew ``worker_id``'s heartbeat for ``ttl`` seconds; False if it had lapsed
        (the worker was late enough to be taken for dead)."""
        return await self._beats.beat(worker_id, ttl)

    async def forget(self, worker_id: str) -> None:
        """A worker that stops cleanly says so at once instead of letting its key expire."""
        await self._beats.forget(worker_id)

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        """Those of ``worker_ids`` whose heartbeat has not expired."""
        return await self._beats.alive(worker_ids)

    async def workers(self) -> dict[str, dict[str, object]]:
        """Every live worker's heartbeat: worker id -> {pid, host, at}."""
        return await self._beats.workers()

    async def free_lock(self, worker_id: str, stream_id: str) -> bool:
        """Delete the stream's lock if the dead ``worker_id``'s poll still holds it."""
        return await self.locks.free_dead(worker_id, stream_id)

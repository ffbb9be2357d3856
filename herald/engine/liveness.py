"""Which workers are alive, and freeing the poll lock of one that is not.

Every worker keeps a heartbeat key with a short TTL and renews it well within that TTL; a
worker killed with ``kill -9`` stops renewing, and its key expires. The sweep treats a job
whose worker has no heartbeat as orphaned and runs it again at once, instead of waiting
for it to time out as stuck.

The orphan's poll may still hold the stream's lock (its lease is 1.5 times the poll timeout).
A worker's process records, per stream, the token of the last lock it asked for
(``StreamStore.lock_holder``); the sweep deletes a lock only while it still holds exactly
that token, so a lock taken by any live poll (another worker, a "poll now") is never
touched and at most one poll of a stream stays in flight.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable

import orjson
from redis.asyncio import Redis

from herald.store.keys import Keys

# KEYS: the stream's lock, the dead worker's lock tokens; ARGV: stream id. 1 if deleted.
_FREE_LOCK = """
local token = redis.call('HGET', KEYS[2], ARGV[1])
if token and redis.call('GET', KEYS[1]) == token then return redis.call('DEL', KEYS[1]) end
return 0
"""


class Liveness:
    """Heartbeats of workers in Redis (``Keys.worker_alive``) and their poll locks."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._free_lock = redis.register_script(_FREE_LOCK)

    async def beat(self, worker_id: str, ttl: float) -> bool:
        """Renew ``worker_id``'s heartbeat for ``ttl`` seconds; False if it had lapsed
        (the worker was late enough to be taken for dead)."""
        info = {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}
        previous = await self._redis.set(
            self._keys.worker_alive(worker_id), orjson.dumps(info), px=_ms(ttl), get=True
        )
        return previous is not None

    async def forget(self, worker_id: str) -> None:
        """A worker that stops cleanly says so at once instead of letting its key expire."""
        await self._redis.delete(self._keys.worker_alive(worker_id))

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        """Those of ``worker_ids`` whose heartbeat has not expired."""
        ids = list(dict.fromkeys(worker_ids))
        if not ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for worker_id in ids:
                pipe.exists(self._keys.worker_alive(worker_id))
            found = await pipe.execute()
        return {worker_id for worker_id, n in zip(ids, found, strict=True) if n}

    async def workers(self) -> dict[str, dict[str, object]]:
        """Every live worker's heartbeat: worker id -> {pid, host, at}."""
        pattern = self._keys.worker_alive("*")
        head, tail = pattern.split("*", 1)
        found: dict[str, dict[str, object]] = {}
        async for raw in self._redis.scan_iter(match=pattern, count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            body = await self._redis.get(key)
            if body is not None:
                found[key[len(head) : len(key) - len(tail)]] = orjson.loads(body)
        return found

    async def free_lock(self, worker_id: str, stream_id: str) -> bool:
        """Delete the stream's lock if the dead ``worker_id``'s poll still holds it."""
        keys = [self._keys.lock(stream_id), self._keys.worker_locks(worker_id)]
        return bool(await self._free_lock(keys=keys, args=[stream_id]))


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)

"""Workers' heartbeats: which workers are alive.

Every worker renews a key with a short TTL well within that TTL; a worker killed with
``kill -9`` stops renewing and its key expires, so the sweep can take its jobs for orphaned.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterable
from typing import Protocol

import orjson
from redis.asyncio import Redis

from herald.store.keys import Keys


class HeartbeatStore(Protocol):
    async def beat(self, worker_id: str, ttl: float) -> bool:
        """Renew ``worker_id``'s heartbeat for ``ttl`` seconds; False if it had lapsed."""
        ...

    async def forget(self, worker_id: str) -> None:
        """A worker that stops cleanly says so at once instead of letting its beat expire."""
        ...

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        """Those of ``worker_ids`` whose heartbeat has not expired."""
        ...

    async def workers(self) -> dict[str, dict[str, object]]:
        """Every live worker's heartbeat: worker id -> {pid, host, at}."""
        ...


def beat_info() -> dict[str, object]:
    return {"pid": os.getpid(), "host": socket.gethostname(), "at": time.time()}


def ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)


class RedisHeartbeats:
    """A string per live worker (``Keys.worker_alive``) with a PX TTL."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys

    async def beat(self, worker_id: str, ttl: float) -> bool:
        previous = await self._redis.set(
            self._keys.worker_alive(worker_id), orjson.dumps(beat_info()), px=ms(ttl), get=True
        )
        return previous is not None

    async def forget(self, worker_id: str) -> None:
        await self._redis.delete(self._keys.worker_alive(worker_id))

    async def alive(self, worker_ids: Iterable[str]) -> set[str]:
        ids = list(dict.fromkeys(worker_ids))
        if not ids:
            return set()
        async with self._redis.pipeline(transaction=False) as pipe:
            for worker_id in ids:
                pipe.exists(self._keys.worker_alive(worker_id))
            found = await pipe.execute()
        return {worker_id for worker_id, n in zip(ids, found, strict=True) if n}

    async def workers(self) -> dict[str, dict[str, object]]:
        pattern = self._keys.worker_alive("*")
        head, tail = pattern.split("*", 1)
        found: dict[str, dict[str, object]] = {}
        async for raw in self._redis.scan_iter(match=pattern, count=500):
            key = raw.decode() if isinstance(raw, bytes) else str(raw)
            body = await self._redis.get(key)
            if body is not None:
                found[key[len(head) : len(key) - len(tail)]] = orjson.loads(body)
        return found

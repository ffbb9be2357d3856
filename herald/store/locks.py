"""Poll locks: at most one poll of a stream in flight, whichever worker runs it.

A lock is a token with a lease (PX). Only its owner releases it (compare-and-delete), so a
poll whose lease expired, and whose lock another poll then took, cannot free the new owner's
lock. A worker records the token of each lock it takes (``holder``) so that, if it dies, the
sweep frees that lock and no other (``free_dead``). A successful poll releases its lock in
the script that commits its state (:meth:`herald.store.streams.StreamStore.commit_poll`).

``lease`` is a named lock for process-wide chores (one reconciler at a time).
"""

from __future__ import annotations

from typing import Protocol

from redis.asyncio import Redis

from herald.store.keys import Keys

# KEYS: the lock; ARGV: the owner's token. 1 if deleted.
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""

# KEYS: the stream's lock, the dead worker's lock tokens; ARGV: stream id. 1 if deleted.
_FREE_DEAD = """
local token = redis.call('HGET', KEYS[2], ARGV[1])
if token and redis.call('GET', KEYS[1]) == token then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LockStore(Protocol):
    async def take(
        self, stream_id: str, token: str, lease_ms: int, holder: str | None = None
    ) -> bool:
        """Take the stream's lock for ``lease_ms`` if it is free; with ``holder`` (a worker
        id), record the token under that worker first."""
        ...

    async def release(self, stream_id: str, token: str) -> bool:
        """Delete the lock only while ``token`` still owns it."""
        ...

    async def owner(self, stream_id: str) -> str | None:
        """The token of the lock in force, if any."""
        ...

    async def free_dead(self, worker_id: str, stream_id: str) -> bool:
        """Delete the stream's lock if it is still the one ``worker_id`` recorded."""
        ...

    async def lease(self, name: str, lease_ms: int) -> bool:
        """Take the named process-wide lease if free (it is never released, only expires)."""
        ...


class RedisLockStore:
    """``Keys.lock`` strings with PX, and ``Keys.worker_locks`` hashes of tokens."""

    def __init__(self, redis: Redis, keys: Keys) -> None:
        self._redis = redis
        self._keys = keys
        self._release = redis.register_script(_RELEASE)
        self._free_dead = redis.register_script(_FREE_DEAD)

    async def take(
        self, stream_id: str, token: str, lease_ms: int, holder: str | None = None
    ) -> bool:
        async with self._redis.pipeline(transaction=False) as pipe:
            if holder is not None:  # before the lock: never a lock without a record
                held = self._keys.worker_locks(holder)
                pipe.hset(held, stream_id, token)
                pipe.pexpire(held, lease_ms)
            pipe.set(self._keys.lock(stream_id), token, nx=True, px=lease_ms)
            *_, locked = await pipe.execute()
        return bool(locked)

    async def release(self, stream_id: str, token: str) -> bool:
        return bool(await self._release(keys=[self._keys.lock(stream_id)], args=[token]))

    async def owner(self, stream_id: str) -> str | None:
        raw = await self._redis.get(self._keys.lock(stream_id))
        return raw.decode() if isinstance(raw, bytes) else raw

    async def free_dead(self, worker_id: str, stream_id: str) -> bool:
        keys = [self._keys.lock(stream_id), self._keys.worker_locks(worker_id)]
        return bool(await self._free_dead(keys=keys, args=[stream_id]))

    async def lease(self, name: str, lease_ms: int) -> bool:
        return bool(await self._redis.set(self._keys.lease(name), "1", nx=True, px=lease_ms))

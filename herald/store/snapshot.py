"""A follower stream's snapshot: follower id -> username, as last seen.

The source pages the newest followers until it meets a known one, and the diff compares
with the snapshot; a lost follower's event needs the name it had. Applying a diff renews
the snapshot's TTL, like every poll renews the stream's records.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from redis.asyncio import Redis

from herald.store.codec import fields, text
from herald.store.keys import Keys


class SnapshotStore(Protocol):
    async def load(self, stream_id: str) -> dict[str, str]:
        """The stored snapshot, follower id -> username (empty before the baseline)."""
        ...

    async def apply(self, stream_id: str, add: Mapping[str, str], remove: Collection[str]) -> None:
        """Remove, then add, in one step; renew the TTL even when both are empty."""
        ...


class RedisSnapshotStore:
    """A hash per stream (``Keys.snapshot``)."""

    def __init__(self, redis: Redis, keys: Keys, *, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl

    async def load(self, stream_id: str) -> dict[str, str]:
        raw = await self._redis.hgetall(self._keys.snapshot(stream_id))
        return {text(k): text(v) for k, v in raw.items()}

    async def apply(self, stream_id: str, add: Mapping[str, str], remove: Collection[str]) -> None:
        key = self._keys.snapshot(stream_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            if remove:
                pipe.hdel(key, *remove)
            if add:
                pipe.hset(key, mapping=fields(add))
            pipe.expire(key, self._ttl)
            await pipe.execute()

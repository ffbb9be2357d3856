"""What a stream has already seen: ids of posts, scored by their order.

The poller asks which ids of a fetched batch were seen, and the lowest order still
remembered (the "floor": anything older was trimmed, not unseen); after a poll it remembers
the batch's new ids. The set is trimmed to the newest ``limit`` ids and lives as long as the
stream's records (its TTL renewed by every remember).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis

from herald.store.keys import Keys


@dataclass(frozen=True, slots=True)
class Seen:
    """Of one batch: the ids already seen, and the lowest order remembered (None: empty)."""

    already: frozenset[str]
    floor: int | None


NOTHING = Seen(frozenset(), None)


class SeenStore(Protocol):
    async def check(self, stream_id: str, ids: Sequence[str]) -> Seen:
        """Which of ``ids`` were seen, and the floor; no ids asks nothing (``NOTHING``)."""
        ...

    async def remember(self, stream_id: str, orders: Mapping[str, int]) -> None:
        """Remember ids with their order; keep the newest ``limit``; renew the TTL.
        Remembering the same ids again changes nothing (a retried poll is safe)."""
        ...


class RedisSeenStore:
    """A zset per stream (``Keys.seen``), scored by order."""

    def __init__(self, redis: Redis, keys: Keys, *, limit: int, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._limit = limit
        self._ttl = ttl

    async def check(self, stream_id: str, ids: Sequence[str]) -> Seen:
        if not ids:
            return NOTHING
        key = self._keys.seen(stream_id)
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.zmscore(key, list(ids))
            pipe.zrange(key, 0, 0, withscores=True)
            scores, lowest = await pipe.execute()
        already = frozenset(i for i, score in zip(ids, scores, strict=True) if score is not None)
        return Seen(already, int(lowest[0][1]) if lowest else None)

    async def remember(self, stream_id: str, orders: Mapping[str, int]) -> None:
        if not orders:
            return
        key = self._keys.seen(stream_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(key, {item: float(order) for item, order in orders.items()})
            pipe.zremrangebyrank(key, 0, -(self._limit + 1))
            pipe.expire(key, self._ttl)
            await pipe.execute()

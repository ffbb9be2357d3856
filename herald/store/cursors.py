"""A stream's cursor: the source's opaque resume point (``FetchResult.cursor``).

It is kept in the stream's state hash (field ``cursor``, JSON), where
:meth:`herald.store.streams.StreamStore.commit_poll` writes it in the same script as the rest
of a finished poll's state, so a poll's cursor and its events never disagree. This Protocol
reads and writes it on its own (a source that resumes outside a poll, a reset).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import orjson
from redis.asyncio import Redis

from herald.store.keys import Keys


class CursorStore(Protocol):
    async def load(self, stream_id: str) -> dict[str, str]:
        """The stored cursor; empty when none was saved."""
        ...

    async def save(self, stream_id: str, cursor: Mapping[str, str]) -> None:
        """Replace the cursor (an empty mapping clears it) and renew the state's TTL."""
        ...


def encode_cursor(cursor: Mapping[str, str]) -> bytes:
    """The stored form: what ``commit_poll`` writes in the ``cursor`` field."""
    return orjson.dumps(dict(cursor))


class RedisCursorStore:
    """The ``cursor`` field of the stream's state hash (``Keys.state``)."""

    def __init__(self, redis: Redis, keys: Keys, *, ttl: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl = ttl

    async def load(self, stream_id: str) -> dict[str, str]:
        raw = await self._redis.hget(self._keys.state(stream_id), "cursor")
        if not raw:
            return {}
        value = orjson.loads(raw)
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}

    async def save(self, stream_id: str, cursor: Mapping[str, str]) -> None:
        key = self._keys.state(stream_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "cursor", encode_cursor(cursor))
            pipe.expire(key, self._ttl)
            await pipe.execute()

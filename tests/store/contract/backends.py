"""The backend a store contract test runs on (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from herald.store.keys import Keys


@dataclass
class Backend:
    """Where a contract test runs: ``redis`` is None for the in-memory twin."""

    name: str
    keys: Keys
    redis: aioredis.Redis | None

    @property
    def client(self) -> aioredis.Redis:
        assert self.redis is not None, "the in-memory twin has no Redis"
        return self.redis

    async def ttl_ms(self, key: str) -> int:
        return int(await self.client.pttl(key))

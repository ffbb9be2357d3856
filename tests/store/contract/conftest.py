"""The three backends every store contract runs on: the in-memory twin, the embedded Valkey,
and the machine's Redis 7 (its own key prefix, deleted afterwards)."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
from backends import Backend

from herald.store.keys import Keys

BACKENDS = ["memory", "embedded", "external"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, keys: Keys) -> Backend:
    if request.param == "memory":
        return Backend("memory", keys, None)
    client: aioredis.Redis = request.getfixturevalue(f"{request.param}_redis")
    return Backend(request.param, keys, client)


@pytest.fixture(params=BACKENDS[1:])
def redis_backend(request: pytest.FixtureRequest, keys: Keys) -> Backend:
    """For the checks of Redis keys (TTLs, scripts) that the in-memory twin does not keep."""
    client: aioredis.Redis = request.getfixturevalue(f"{request.param}_redis")
    return Backend(request.param, keys, client)

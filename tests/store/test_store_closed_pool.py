"""A stopped Herald's Redis client refuses new connections instead of quietly reopening one
that nobody would close (a task that outlives ``Herald.stop`` by a moment)."""

from __future__ import annotations

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.store.redis import ClosablePool
from tests.conftest import EXTERNAL_REDIS_URL


async def test_a_stopped_heralds_client_opens_no_connection(
    external_redis: object, key_prefix: str
) -> None:
    settings = Settings(redis_url=EXTERNAL_REDIS_URL, redis_prefix=key_prefix)
    herald = await Herald(settings, sources=[MemorySource()]).start()
    client = herald.redis
    pool = client.connection_pool
    assert isinstance(pool, ClosablePool)
    assert await client.ping()
    await herald.stop()
    with pytest.raises(RedisConnectionError, match="herald has stopped"):
        await client.ping()
    with pytest.raises(RedisConnectionError):
        await herald.log.newest_offset()
    # every connection the pool ever held is closed; the refused calls opened none
    held = [*pool._in_use_connections, *pool._available_connections]
    assert held and not any(c.is_connected for c in held)

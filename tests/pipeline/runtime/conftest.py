"""Runtime tests run on the machine's Redis 7 under their own key prefix (deleted after)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from herald.store.keys import Keys
from herald.store.pipelines import PipelineStore


@pytest.fixture
async def store(external_redis: Redis, keys: Keys) -> AsyncIterator[PipelineStore]:
    yield PipelineStore(external_redis, keys, log_maxlen=1_000_000)

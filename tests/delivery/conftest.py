"""Fixtures for the delivery tests: a running server on the machine's Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from delivery_helpers import Server, running_server

from herald.store.keys import Keys


@pytest.fixture
async def server(external_redis: aioredis.Redis, keys: Keys) -> AsyncIterator[Server]:
    async with running_server(external_redis, keys, heartbeat_interval=0.5) as srv:
        yield srv

"""Fixtures for the delivery tests: a running server on the machine's Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from delivery_helpers import Server, running_server

from herald.store.keys import Keys


@pytest.fixture(params=["direct", "asgi-send"])
async def server(
    request: pytest.FixtureRequest, external_redis: aioredis.Redis, keys: Keys
) -> AsyncIterator[Server]:
    """Both write paths: frames written straight to the socket, and the plain ASGI send."""
    direct_writes = request.param == "direct"
    async with running_server(
        external_redis, keys, heartbeat_interval=0.5, direct_writes=direct_writes
    ) as srv:
        yield srv

"""A server with auth on, on the machine's Redis under the test's key prefix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.auth.auth_support import AuthServer, auth_server


@pytest.fixture
async def server(external_redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[AuthServer]:
    async with auth_server(key_prefix, archive_url="memory") as srv:  # search and export answer
        yield srv

"""The entry-point tests' server: auth on, commands in memory, on the machine's Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.entrypoints.support import CommandServer, command_server


@pytest.fixture
async def server(external_redis: aioredis.Redis, key_prefix: str) -> AsyncIterator[CommandServer]:
    async with command_server(key_prefix) as srv:
        yield srv

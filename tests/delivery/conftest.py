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
    """Both write paths: frames written straight to the socket, and the plain ASGI send.

    ``@pytest.mark.server_settings(**overrides)`` replaces the default settings overrides.
    """
    marker = request.node.get_closest_marker("server_settings")
    overrides = marker.kwargs if marker else {"heartbeat_interval": 0.5}
    direct_writes = request.param == "direct"
    async with running_server(
        external_redis, keys, direct_writes=direct_writes, **overrides
    ) as srv:
        yield srv

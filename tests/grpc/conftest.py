"""Fixtures for the gRPC tests: a started Herald on the machine's Redis and its gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from grpc_helpers import GrpcHerald, running

from herald.store.keys import Keys


@pytest.fixture
async def served(
    request: pytest.FixtureRequest, external_redis: aioredis.Redis, key_prefix: str, keys: Keys
) -> AsyncIterator[GrpcHerald]:
    """``@pytest.mark.server_settings(**overrides)`` adds settings."""
    marker = request.node.get_closest_marker("server_settings")
    overrides = marker.kwargs if marker else {}
    async with running(key_prefix, **overrides) as srv:
        yield srv

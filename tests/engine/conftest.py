"""Engine fixtures: a Herald on real Redis (embedded and external) with an in-memory source."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource


@pytest.fixture
def settings(redis_url: str, key_prefix: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        min_interval=0.1,
        default_interval=60,
        poll_timeout=2,
        reconcile_interval=0.5,
        jitter=0,
    )


@pytest.fixture
def source() -> MemorySource:
    return MemorySource()


@pytest.fixture
async def herald(settings: Settings, source: MemorySource) -> AsyncIterator[Herald]:
    async with Herald(settings, sources=[source], delivery=False) as running:
        yield running

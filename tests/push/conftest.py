"""Push runtime fixtures: a Herald on real Redis (embedded and external) whose only source
is the in-memory push source over a feed the test publishes to."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from herald.config import Settings
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.service import Herald
from herald.sources import catalog
from tests.platforms.feed import TYPE


@pytest.fixture(autouse=True)
def feed_platform() -> Iterator[None]:
    with catalog.platform("tests.platforms.feed"):
        yield


@pytest.fixture
def settings(redis_url: str, key_prefix: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        min_interval=0.1,
        reconcile_interval=0.5,
        jitter=0,
        push_lease_ttl=1.5,
        push_check_interval=0.1,
        push_backoff=0.05,
        push_max_backoff=0.2,
        max_errors=10,
    )


@pytest.fixture
def feed() -> MemoryFeed:
    return MemoryFeed()


@pytest.fixture
def source(feed: MemoryFeed) -> MemoryPushSource:
    return MemoryPushSource(feed, stream_types=(TYPE,))


@pytest.fixture
async def herald(settings: Settings, source: MemoryPushSource) -> AsyncIterator[Herald]:
    async with Herald(settings, sources=[source], delivery=False) as running:
        yield running

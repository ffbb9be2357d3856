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
async def herald(
    request: pytest.FixtureRequest, settings: Settings, source: MemorySource
) -> AsyncIterator[Herald]:
    """``@pytest.mark.herald_options(worker=False)`` for a test that polls by hand only: with
    a worker, the scheduler's own first poll of a new stream could come before the test's."""
    marker = request.node.get_closest_marker("herald_options")
    options = marker.kwargs if marker else {}
    async with Herald(settings, sources=[source], delivery=False, **options) as running:
        yield running

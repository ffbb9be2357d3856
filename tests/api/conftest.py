"""A real herald server (uvicorn on a free loopback port) around an in-memory source."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.servers import serve_herald


@dataclass
class Server:
    herald: Herald
    source: MemorySource
    url: str
    client: httpx.AsyncClient


@pytest.fixture
def api_settings(redis_url: str, key_prefix: str) -> Settings:
    return Settings(
        redis_url=redis_url,
        redis_prefix=key_prefix,
        poll_timeout=2,
        reconcile_interval=0.5,
        heartbeat_interval=1,
    )


@pytest.fixture
async def server(request: pytest.FixtureRequest, api_settings: Settings) -> AsyncIterator[Server]:
    """``@pytest.mark.herald_options(**kwargs)`` passes extra arguments to ``Herald``."""
    marker = request.node.get_closest_marker("herald_options")
    options = marker.kwargs if marker else {}
    source = MemorySource()
    async with (
        Herald(api_settings, sources=[source], **options) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as client,
    ):
        yield Server(herald, source, url, client)

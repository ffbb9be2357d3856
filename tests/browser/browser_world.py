"""A Herald whose X source reads fakex, with a given browser pool for its fallback path."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import redis.asyncio as aioredis

from herald.browser import BrowserPool
from herald.config import Settings
from herald.service import Herald
from herald.sources.x import XSource
from herald.store.keys import Keys
from herald.testing.fakex import create_app
from tests.conftest import EXTERNAL_REDIS_URL, delete_prefix
from tests.engine.x_world import XWorld
from tests.servers import serve_asgi


@asynccontextmanager
async def browser_world(pool: BrowserPool, prefix: str, **overrides: Any) -> AsyncIterator[XWorld]:
    """fakex, and a Herald (no worker, no delivery) on the machine's Redis under ``prefix``
    whose X source falls back to ``pool``; the prefix is deleted afterwards."""
    async with serve_asgi(create_app(), ws="none", timeout_graceful_shutdown=1) as url:
        settings = Settings(
            redis_url=EXTERNAL_REDIS_URL,
            redis_prefix=prefix,
            x_base_url=url,
            x_transaction_id=False,
            secret_key="test secret key",
            session_cookie=None,
            poll_timeout=10,
            min_interval=0.1,
            jitter=0,
            **overrides,
        )
        redis = aioredis.from_url(EXTERNAL_REDIS_URL)
        source = XSource.from_settings(settings, redis, Keys(prefix), browser_pool=pool)
        try:
            async with (
                Herald(settings, sources=[source], worker=False, delivery=False) as herald,
                httpx.AsyncClient(base_url=url, timeout=10) as fakex,
            ):
                yield XWorld(herald, fakex)
        finally:
            await delete_prefix(redis, prefix)
            await redis.aclose()

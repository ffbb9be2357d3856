"""``create_app`` owns start and stop through its lifespan, in process."""

from __future__ import annotations

import httpx
import pytest

from herald.api.app import create_app
from herald.config import Settings
from herald.errors import StorageError
from herald.service import Herald
from tests.servers import free_port, herald_settings, serve_app


async def test_the_lifespan_starts_and_stops_what_it_owns(
    external_redis: object, key_prefix: str
) -> None:
    app = create_app(herald_settings(key_prefix))
    herald = app.herald
    assert not herald.started and app.inner is None
    async with serve_app(app) as url, httpx.AsyncClient(base_url=url, timeout=10) as client:
        assert herald.started and herald.worker is not None and herald.delivery is not None
        assert (await client.get("/api/health")).json()["checks"]["redis"] == "ok"
        mcp = app.mcp
        assert mcp is not None and mcp._task is not None  # sessions run before any request
    assert not herald.started and herald.worker is None and herald.delivery is None
    assert mcp._task is None


async def test_a_started_herald_stays_the_callers(external_redis: object, key_prefix: str) -> None:
    async with Herald(herald_settings(key_prefix), worker=False) as herald:
        app = create_app(herald)
        assert app.inner is not None  # built at once: the Herald is already running
        async with serve_app(app) as url, httpx.AsyncClient(base_url=url) as client:
            assert (await client.get("/api/streams")).status_code == 200
        assert herald.started
        assert app.mcp is not None and app.mcp._task is None


async def test_a_failed_start_raises_its_reason() -> None:
    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    app = create_app(settings)
    with pytest.raises(StorageError, match="cannot use Redis"):
        async with serve_app(app):
            pass
    assert not app.herald.started

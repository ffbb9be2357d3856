"""Helpers for the dashboard tests: a restartable server and small waits.

The server can be stopped and started again on the same port and Redis prefix, so a test
can watch the page go offline and come back.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from playwright.async_api import Page

from herald.api.app import create_app
from herald.api.serving import HeraldServer, listen, make_server
from herald.browser.chromium import ARGS
from herald.config import Settings
from herald.service import Herald
from herald.sources.base import Source
from herald.sources.memory import MemorySource
from tests.conftest import EXTERNAL_REDIS_URL

CHROMIUM_ARGS = [*ARGS]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DashServer:
    """A herald (in-memory source, external Redis) served by uvicorn on a fixed port."""

    def __init__(self, settings: Settings, source: MemorySource, *extra_sources: Source) -> None:
        self.settings = settings
        self.source = source
        self.extra_sources = extra_sources
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.herald: Herald | None = None
        self._uvicorn: HeraldServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start_engine(self) -> Herald:
        sources = [self.source, *self.extra_sources]
        self.herald = await Herald(self.settings, sources=sources).start()
        return self.herald

    async def start_http(self) -> None:
        assert self.herald is not None
        sock = listen("127.0.0.1", self.port)
        server = make_server(create_app(self.herald), timeout_graceful_shutdown=2)
        self._uvicorn = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:  # uvicorn exposes a flag, not an event
            if self._task.done():
                await self._task  # raises the bind error
            await asyncio.sleep(0.01)

    async def start(self) -> None:
        await self.start_engine()
        await self.start_http()

    async def stop(self) -> None:
        """Stop Herald first (it closes every WebSocket), then uvicorn."""
        if self.herald is not None:
            await self.herald.stop()
            self.herald = None
        if self._uvicorn is not None and self._task is not None:
            self._uvicorn.should_exit = True
            await self._task
            self._uvicorn = self._task = None

    @property
    def manager(self) -> Any:
        assert self.herald is not None
        return self.herald.manager


def make_settings(key_prefix: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "redis_url": EXTERNAL_REDIS_URL,
        "redis_prefix": key_prefix,
        "poll_timeout": 2,
        "reconcile_interval": 0.5,
        "heartbeat_interval": 1,
    }
    values.update(overrides)
    return Settings(**values)


OpenPage = Callable[..., Awaitable[Page]]


async def wait_polled(api: httpx.AsyncClient, stream_id: str, timeout: float = 10) -> None:
    """Wait until the worker has made the stream's first (baseline) poll."""
    async with asyncio.timeout(timeout):
        while True:
            body = (await api.get(f"/api/streams/{stream_id}")).json()
            if body.get("lastPoll"):
                return
            await asyncio.sleep(0.05)

"""Helpers shared by the RSS tests (a module name no other test folder uses): the feed
stand-in on a loopback port, and a Herald polling it by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from herald.config import Settings
from herald.service import Herald
from herald.testing.fakefeed import create_app
from tests.conftest import fixtures_root, need
from tests.servers import serve_asgi

FEEDS = (
    "content-encoded",
    "craigslist",
    "encoding",
    "feedburner",
    "gulp-atom",
    "guardian",
    "heise",
    "narro",
    "reddit",
)
"""Every recorded feed: a test over "each feed" fails if one goes missing."""


def feeds_dir() -> Path:
    """The recorded feeds, read in place; skipped when absent, a failure under CI=true."""
    folder = fixtures_root() / "rss"
    need(folder.is_dir(), f"recorded feeds not found at {folder} (set HERALD_FIXTURES)")
    return folder


@asynccontextmanager
async def fakefeed(folder: Path | None) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The stand-in on a free loopback port and a client of its control API."""
    async with (
        serve_asgi(create_app(folder), ws="none", timeout_graceful_shutdown=1) as url,
        httpx.AsyncClient(base_url=url, timeout=10) as control,
    ):
        yield url, control


class FeedWorld:
    """One Herald (no worker, no delivery) polling the feed stand-in by hand."""

    def __init__(self, herald: Herald, url: str, control: httpx.AsyncClient) -> None:
        self.herald, self.url, self.fake = herald, url, control

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.fake.request(method, f"/_fakefeed{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    async def add(self, feed: str, **entry: Any) -> dict[str, Any]:
        added: dict[str, Any] = await self.control("POST", f"/feeds/{feed}/entries", json=entry)
        return added

    async def fault(self, mode: str, **extra: Any) -> None:
        await self.control("POST", "/faults", json={"mode": mode, **extra})

    async def requests(self, feed: str) -> dict[str, int]:
        counts: dict[str, dict[str, int]] = (await self.control("GET", "/requests"))["feeds"]
        return counts.get(feed, {})

    async def start(self, feed: str) -> str:
        stream = await self.herald.manager.create("rss:feed", f"{self.url}/feeds/{feed}", 3600)
        return str(stream["id"])

    async def poll(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.poll_now(stream_id)

    async def events(self, stream_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The stream's events, oldest first (``kind``: only that type)."""
        history = list(reversed(await self.herald.manager.history(stream_id, 1000)))
        return [e for e in history if kind is None or e["type"] == kind]

    async def entries(self, stream_id: str) -> list[dict[str, Any]]:
        return [e["entry"] for e in await self.events(stream_id, "stream:entry:new")]


@asynccontextmanager
async def feed_world(settings: Settings, folder: Path | None) -> AsyncIterator[FeedWorld]:
    async with (
        fakefeed(folder) as (url, control),
        Herald(settings, worker=False, delivery=False) as herald,
    ):
        yield FeedWorld(herald, url, control)

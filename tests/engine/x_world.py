"""A Herald polling the X stand-in (fakex) by hand: the poll path end to end, minus delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx

from herald.config import Settings
from herald.service import Herald
from herald.testing.fakex import create_app
from tests.servers import serve_asgi

T = TypeVar("T")
COOKIE = "9a9e5c00c1e5ec4e7a17e5e55101c00c1e5ec4aa"  # made up; must appear nowhere


class XWorld:
    """One Herald (no worker, no delivery) and the control API of its X stand-in."""

    def __init__(self, herald: Herald, fakex: httpx.AsyncClient) -> None:
        self.herald, self.fakex = herald, fakex

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.fakex.request(method, f"/_fakex{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    async def tweet(self, username: str, text: str) -> str:
        posted = await self.control("POST", f"/users/{username}/tweets", json={"text": text})
        return str(posted["id"])

    async def requests(self, operation: str) -> int:
        seen: dict[str, int] = (await self.control("GET", "/requests"))["operations"]
        return seen.get(operation, 0)

    async def start(self, kind: str, username: str, **options: Any) -> str:
        stream = await self.herald.manager.create(
            kind, username, interval=3600, auth_token=COOKIE, options=options or None
        )
        return str(stream["id"])

    async def poll(self, stream_id: str) -> dict[str, Any]:
        return await self.herald.manager.poll_now(stream_id)

    async def events(self, stream_id: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The stream's events, oldest first (``kind``: only that type)."""
        history = list(reversed(await self.herald.manager.history(stream_id, 1000)))
        return [e for e in history if kind is None or e["type"] == kind]


@asynccontextmanager
async def x_world(settings: Settings, **overrides: Any) -> AsyncIterator[XWorld]:
    async with serve_asgi(create_app(), ws="none", timeout_graceful_shutdown=1) as url:
        x_settings = settings.model_copy(
            update={
                "x_base_url": url,
                "secret_key": "test secret key",
                "session_cookie": None,
                "poll_timeout": 10,  # several pages on a busy machine: a bound, not a wait
                **overrides,
            }
        )
        async with (
            Herald(x_settings, worker=False, delivery=False) as herald,
            httpx.AsyncClient(base_url=url, timeout=10) as fakex,
        ):
            yield XWorld(herald, fakex)


async def wait_for(
    probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float = 10.0
) -> T:
    """Re-check ``probe`` until ``done`` says so; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.05)

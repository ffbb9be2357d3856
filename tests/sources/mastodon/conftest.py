"""fakedon on a real loopback port, built from the recorded cassettes, and a Mastodon source
pointed at it (tokens in the machine's Redis under the test's prefix)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.sources.base import FetchResult, PollContext
from herald.sources.mastodon.source import MastodonSource
from herald.store.keys import Keys
from herald.store.mastodon_tokens import MastodonTokens
from herald.store.memory import MemoryRateLimits
from herald.store.secrets import Cipher
from herald.testing.fakedon import FakeDon, create_app
from tests.conftest import need
from tests.servers import serve_asgi

TOKEN = "mastodon-e2e-token-7f3a9c1d5b"  # made up; searched for in logs and answers


@pytest.fixture
def cassettes(fixtures_dir: Path) -> Path:
    folder = fixtures_dir / "mastodon"
    need(folder.is_dir(), f"Mastodon cassettes not found at {folder}")
    return folder


@dataclass
class Don:
    url: str
    host: str
    fake: FakeDon
    http: httpx.AsyncClient

    async def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self.http.request(method, f"{self.url}/_fakedon{path}", **kwargs)
        assert response.status_code < 400, response.text
        return response.json()

    async def post(self, account: str, text: str) -> str:
        answer = await self.control("POST", "/statuses", json={"account": account, "text": text})
        return str(answer["id"])


@pytest.fixture
async def don(cassettes: Path) -> AsyncIterator[Don]:
    app = create_app(cassettes)
    async with serve_asgi(app) as url, httpx.AsyncClient(timeout=10) as http:
        fake: FakeDon = app.state.fakedon
        fake.world.base_url = url
        yield Don(url, url.split("://", 1)[1], fake, http)


@pytest.fixture
def settings() -> Settings:
    return Settings(max_pages=3, mastodon_page_size=2, follower_resync_polls=3, poll_timeout=10)


@pytest.fixture
async def tokens(external_redis: aioredis.Redis, keys: Keys) -> MastodonTokens:
    return MastodonTokens(external_redis, keys, Cipher("mastodon-test-key"))


@pytest.fixture
async def source(settings: Settings, tokens: MastodonTokens) -> AsyncIterator[MastodonSource]:
    src = MastodonSource(settings, tokens, MemoryRateLimits())
    yield src
    await src.aclose()


Poll = Callable[..., Awaitable[FetchResult]]


class Stream:
    """One stream's polls against the source, carrying the cursor and high water along as
    the engine would (the diff itself is the engine's; here only what the source sees)."""

    def __init__(self, source: MastodonSource, type_: str, target: str, **ctx: Any) -> None:
        self.source, self.type, self.target, self.ctx = source, type_, target, ctx
        self.cursor: dict[str, str] = {}
        self.high_water = 0
        self.baseline = True
        self.seen: set[str] = set()

    async def poll(self) -> FetchResult:
        result = await self.source.fetch(
            PollContext(
                stream_id="s1",
                type=self.type,
                username=self.target,
                cursor=self.cursor,
                baseline=self.baseline,
                high_water=self.high_water,
                **self.ctx,
            )
        )
        self.cursor = dict(result.cursor)
        self.baseline = False
        self.high_water = max([self.high_water, *(i.order for i in result.items)])
        return result

    async def new(self) -> list[str]:
        """Ids not seen before, oldest first (what the engine would announce)."""
        result = await self.poll()
        fresh = sorted((i for i in result.items if i.id not in self.seen), key=lambda i: i.order)
        self.seen |= {i.id for i in result.items}
        return [i.id for i in fresh]

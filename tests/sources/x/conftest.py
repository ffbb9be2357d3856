"""The X stand-in on a real loopback port, and settings that point the X source at it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from x_support import serve_asgi

from herald.config import Settings
from herald.sources.x.accounts import AccountStore
from herald.store.keys import Keys
from herald.store.secrets import Cipher


@pytest.fixture
async def fakex_url() -> AsyncIterator[str]:
    """The base URL of a fresh X stand-in (seeded synthetic users) on a loopback port."""
    from herald.testing.fakex.app import create_app

    async with serve_asgi(create_app()) as url:
        yield url


@pytest.fixture
async def fakex_recorded_url(fixtures_dir: Path) -> AsyncIterator[str]:
    """The X stand-in serving the recorded responses."""
    from herald.testing.fakex.app import create_app

    async with serve_asgi(create_app(fixtures_dir=fixtures_dir / "x")) as url:
        yield url


@pytest.fixture
async def fakex(fakex_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the stand-in's control API."""
    async with httpx.AsyncClient(base_url=fakex_url, timeout=10) as client:
        yield client


@pytest.fixture
def x_settings(fakex_url: str, tmp_path: Path) -> Settings:
    return Settings(
        x_base_url=fakex_url,
        poll_timeout=2,
        data_dir=tmp_path,
        secret_key="test secret key",
        session_cookie=None,
    )


@pytest.fixture
def accounts(redis: aioredis.Redis, keys: Keys, x_settings: Settings) -> AccountStore:
    return AccountStore(redis, keys, Cipher.from_settings(x_settings))

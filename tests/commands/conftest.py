"""A real X stand-in on a loopback port, the machine's Redis, and the commands service
built from its real parts (store, event log, account store, X writer)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import redis.asyncio as aioredis
from commands_support import ALICE_TOKEN, Rig, command_settings

from herald.config import Settings
from herald.store.keys import Keys
from tests.servers import serve_asgi


@pytest.fixture
async def fakex_url() -> AsyncIterator[str]:
    from herald.testing.fakex.app import create_app

    async with serve_asgi(create_app()) as url:
        yield url


@pytest.fixture
async def fakex(fakex_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The stand-in's control API; alice's token writes as @alice."""
    async with httpx.AsyncClient(base_url=fakex_url, timeout=10) as client:
        answer = await client.post(
            "/_fakex/sessions", json={"authToken": ALICE_TOKEN, "username": "alice"}
        )
        answer.raise_for_status()
        yield client


@pytest.fixture
def settings(fakex_url: str, tmp_path: Path, key_prefix: str) -> Settings:
    return command_settings(fakex_url, tmp_path, key_prefix)


@pytest.fixture
async def rig(
    external_redis: aioredis.Redis, keys: Keys, settings: Settings, fakex: httpx.AsyncClient
) -> AsyncIterator[Rig]:
    rig = Rig.build(external_redis, keys, settings, fakex)
    yield rig
    await rig.aclose()

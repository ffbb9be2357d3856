"""A herald with a worker on the machine's Redis, and a loopback receiver beside it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from herald.config import Settings
from herald.events import Event, EventType
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.servers import herald_settings, serve_asgi, serve_herald
from tests.webhooks.receiver import Receiver

FAST = {
    "webhooks_allow_private": True,
    "webhooks_schedule": "0,0.2,0.2,0.2,0.2,0.2",
    "webhooks_jitter": 0,
    "webhooks_lease_ttl": 1,
    "webhooks_timeout": 2,
    "webhooks_connect_timeout": 1,
}


def hook_settings(key_prefix: str, tmp_path: Path, **extra: Any) -> Settings:
    return herald_settings(
        key_prefix, data_dir=tmp_path, secret_key="test-key", **{**FAST, **extra}
    )


@dataclass
class Rig:
    herald: Herald
    url: str
    api: httpx.AsyncClient
    receiver: Receiver
    hook_url: str


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    got = Receiver()
    async with serve_asgi(got) as url:
        yield got, url


@pytest.fixture
async def rig(
    external_redis: aioredis.Redis,
    key_prefix: str,
    tmp_path: Path,
    receiver: tuple[Receiver, str],
    request: pytest.FixtureRequest,
) -> AsyncIterator[Rig]:
    marker = request.node.get_closest_marker("herald_options")
    extra = marker.kwargs if marker else {}
    settings = hook_settings(key_prefix, tmp_path, **extra)
    async with (
        Herald(settings, sources=[MemorySource()]) as herald,
        serve_herald(herald) as url,
        httpx.AsyncClient(base_url=url, timeout=15) as api,
    ):
        yield Rig(herald, url, api, receiver[0], receiver[1] + "/hook")


def tweet(n: int, stream: str = "s1", text: str = "") -> Event:
    return Event(
        EventType.TWEET_NEW,
        stream,
        "alice",
        str(n),
        {
            "tweet": {
                "id": str(n),
                "text": text or f"tweet {n}",
                "author": "alice",
                "url": f"https://x.com/alice/status/{n}",
            }
        },
        platform="x",
    )


async def append(herald: Herald, events: list[Event]) -> None:
    by_stream: dict[str, list[Event]] = {}
    for e in events:
        by_stream.setdefault(e.stream_id, []).append(e)
    for stream, group in by_stream.items():
        await herald.log.append(stream, group)

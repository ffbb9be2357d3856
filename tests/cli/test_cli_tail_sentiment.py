"""End to end: posts scored as the engine detects them, and ``herald tail --sentiment``
printing only the ones it asked for."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from herald.sources.memory import MemorySource
from tests.cli.test_cli_tail import next_event, subscribed
from tests.conftest import REPO_ROOT
from tests.dashboard.dash_support import DashServer, make_settings


@pytest.fixture
async def server(key_prefix: str, external_redis: aioredis.Redis) -> AsyncIterator[DashServer]:
    dash = DashServer(make_settings(key_prefix), MemorySource())
    await dash.start()
    yield dash
    await dash.stop()


async def test_tail_follows_only_negative_posts(server: DashServer) -> None:
    server.source.post("tara", "old")
    stream = await server.manager.create("tweet", "tara", interval=3600)
    await server.manager.poll_now(stream["id"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "herald.cli", "tail", "--json", "--url", server.url,
        "--sentiment", "negative",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await subscribed(proc)
        server.source.post("tara", "What a wonderful, happy day!")
        server.source.post("tara", "This outage is awful and I hate it.")
        server.source.post("tara", "Another terrible, horrible failure.")
        await server.manager.poll_now(stream["id"])
        first, second = await next_event(proc), await next_event(proc)
    finally:
        proc.kill()
        await proc.wait()
    for event in (first, second):
        tweet = event["tweet"]
        assert isinstance(tweet, dict)
        assert tweet["sentiment"]["label"] == "negative"
        assert tweet["sentiment"]["compound"] <= -0.05
        assert event["priority"] == 1  # a new item's default, written into the log
    assert [e["tweet"]["text"] for e in (first, second)] == [  # type: ignore[index]
        "This outage is awful and I hate it.",
        "Another terrible, horrible failure.",
    ]

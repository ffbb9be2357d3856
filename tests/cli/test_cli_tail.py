"""``herald tail`` prints events live and resumes from its last offset after a restart."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import orjson
import pytest
import redis.asyncio as aioredis

from herald.sources.memory import MemorySource
from tests.conftest import REPO_ROOT
from tests.dashboard.dash_support import DashServer, make_settings


@pytest.fixture
async def server(key_prefix: str, external_redis: aioredis.Redis) -> AsyncIterator[DashServer]:
    dash = DashServer(make_settings(key_prefix), MemorySource())
    await dash.start()
    yield dash
    await dash.stop()


async def next_event(proc: asyncio.subprocess.Process, timeout: float = 20) -> dict[str, object]:
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout)
    assert line, "herald tail ended"
    event: dict[str, object] = orjson.loads(line)
    return event


async def subscribed(proc: asyncio.subprocess.Process, timeout: float = 20) -> str:
    """Wait for ``herald tail``'s "subscribed" notice on stderr (it follows every connect)."""
    assert proc.stderr is not None
    async with asyncio.timeout(timeout):
        while line := (await proc.stderr.readline()).decode():
            if "subscribed at offset" in line:
                return line
    raise AssertionError("herald tail ended before it subscribed")


async def test_tail_prints_events_and_resumes_after_a_restart(server: DashServer) -> None:
    server.source.post("tara", "old")
    stream = await server.manager.create("tweet", "tara", interval=3600)
    await server.manager.poll_now(stream["id"])
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "herald.cli", "tail", "--json", "--url", server.url,
        "--type", "stream:tweet:new",
        cwd=REPO_ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        await subscribed(proc)
        server.source.post("tara", "first")
        await server.manager.poll_now(stream["id"])
        first = await next_event(proc)
        assert first["type"] == "stream:tweet:new" and first["tweet"]["text"] == "first"  # type: ignore[index]

        await server.stop()  # the connection drops
        server.source.post("tara", "while away")
        await server.start()
        await subscribed(proc)  # resumed from its last offset
        await server.manager.poll_now(stream["id"])
        second = await next_event(proc)
        assert second["tweet"]["text"] == "while away"  # type: ignore[index]
        assert str(second["offset"]) > str(first["offset"])
        server.source.post("tara", "live again")
        await server.manager.poll_now(stream["id"])
        third = await next_event(proc)
        assert third["tweet"]["text"] == "live again"  # type: ignore[index]
    finally:
        proc.kill()
        await proc.wait()

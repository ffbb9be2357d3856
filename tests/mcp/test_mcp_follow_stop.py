"""The MCP follower outlives the Herald by a moment at shutdown: it must not use it then.

A stopped Herald's Redis client would reconnect on the next read, leaving a connection that
nothing closes (the garbage collector later warns about it in whatever runs next).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from herald.delivery.subscription import Query, Selector
from herald.mcp import server as mcp_server
from herald.mcp.backend import LocalBackend, NotRunning
from herald.service import Herald
from herald.sources.memory import MemorySource
from tests.servers import herald_settings
from tests.waiting import wait_until


async def test_the_follower_stops_using_a_stopped_herald(
    external_redis: object,
    key_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(mcp_server, "FOLLOW_WAIT", 0.1)
    monkeypatch.setattr(mcp_server, "RETRY_AFTER", 0.05)
    caplog.set_level(logging.DEBUG, logger="herald.mcp")
    herald = await Herald(herald_settings(key_prefix), sources=[MemorySource()]).start()
    backend = LocalBackend(herald)
    follower = asyncio.create_task(mcp_server.build_mcp(backend).follow())
    try:
        created = await herald.manager.create("tweet", "alice", 60)
        assert created["id"]
        await herald.stop()

        def paused() -> bool:
            return any("not running" in r.getMessage() for r in caplog.records)

        await wait_until(paused, 10, what="the follower to find the Herald stopped")
        assert not follower.done()  # it waits; the server's shutdown cancels it
        with pytest.raises(NotRunning) as caught:
            await backend.events(Query(Selector()))
        assert caught.value.status == 503
        with pytest.raises(NotRunning):
            await backend.list_streams()
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower
        await herald.stop()

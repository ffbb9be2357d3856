"""The terminal client: live output, JSON lines, and resume after the server restarts."""

from __future__ import annotations

import asyncio
import contextlib
import io

import orjson
import pytest
import redis.asyncio as aioredis
from delivery_helpers import append, append_n, running_server, tweet, wait_for
from rich.console import Console

from herald.delivery.terminal import tail
from herald.errors import AuthError
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(60)


async def test_tail_prints_and_resumes_across_a_server_restart(
    external_redis: aioredis.Redis, keys: Keys, unused_tcp_port: int
) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)

    def lines() -> list[dict[str, str]]:
        return [orjson.loads(line) for line in out.getvalue().splitlines() if line.startswith("{")]

    async with running_server(external_redis, keys, port=unused_tcp_port) as srv:
        url = srv.url
        task = asyncio.create_task(
            tail(
                url,
                token=None,
                stream_ids=["s1"],
                types=[],
                since=None,
                console=console,
                json_output=True,
            )
        )
        await wait_for(lambda: srv.delivery.connected_clients()["ws"] == 1)
        first = await append(srv.redis, srv.keys, [tweet(1, "s1"), tweet(2, "s2")])
        await wait_for(lambda: len(lines()) == 1)
    try:
        # The server is gone; events keep arriving in the log meanwhile.
        missed = await append_n(external_redis, keys, 5, start=10)
        async with running_server(external_redis, keys, port=unused_tcp_port):
            await wait_for(lambda: len(lines()) == 6, timeout=20)
        assert [e["offset"] for e in lines()] == [first[0], *missed]
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_tail_renders_with_rich_and_stops_on_refused_token(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    out = io.StringIO()
    console = Console(file=out, width=200)
    async with running_server(external_redis, keys, api_keys=["k"]) as srv:
        with pytest.raises(AuthError):
            await asyncio.wait_for(
                tail(srv.url, token="wrong", stream_ids=[], types=[], since=None, console=console),
                10,
            )
        task = asyncio.create_task(
            tail(srv.url, token="k", stream_ids=[], types=[], since=None, console=console)
        )
        try:
            await wait_for(lambda: srv.delivery.connected_clients()["ws"] == 1)
            await append(srv.redis, srv.keys, [tweet(7, "s9", text="hello terminal")])
            await wait_for(lambda: "hello terminal" in out.getvalue())
            assert "stream:tweet:new" in out.getvalue() and "s9" in out.getvalue()
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

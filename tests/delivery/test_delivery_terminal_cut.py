"""``herald tail`` cut off as a slow consumer says so and resumes instead of exiting."""

from __future__ import annotations

import asyncio
import io

import orjson
import pytest
import redis.asyncio as aioredis
from delivery_helpers import append, running_server, tweet, wait_for
from rich.console import Console

from herald.delivery.terminal import tail
from herald.delivery.ws import CLOSE_TOO_SLOW
from herald.store.keys import Keys

pytestmark = pytest.mark.timeout(60)


async def test_tail_resumes_after_a_slow_consumer_cut(
    external_redis: aioredis.Redis, keys: Keys
) -> None:
    out, notes = io.StringIO(), io.StringIO()

    def offsets() -> list[str]:
        return [orjson.loads(x)["offset"] for x in out.getvalue().splitlines() if x]

    async with running_server(external_redis, keys) as srv:
        task = asyncio.create_task(
            tail(
                srv.url, token=None, stream_ids=[], types=[], since=None,
                console=Console(file=out, width=200), json_output=True,
                notices=Console(file=notes, width=200),
            )
        )  # fmt: skip
        try:
            conns = srv.delivery.ctx.ws_connections
            await wait_for(lambda: srv.delivery.hub.group_count == 1)
            first = await append(srv.redis, srv.keys, [tweet(1)])
            await wait_for(lambda: offsets() == first)
            (conn,) = conns
            conn.cut(CLOSE_TOO_SLOW, "slow_consumer: more than 1000 events behind")
            await wait_for(lambda: len(conns) == 1 and conn not in conns and not task.done())
            await wait_for(lambda: srv.delivery.hub.group_count == 1)
            second = await append(srv.redis, srv.keys, [tweet(2)])
            await wait_for(lambda: offsets() == first + second or task.done())
            assert not task.done(), task.exception()
            assert "slow_consumer: more than 1000 events behind" in notes.getvalue()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

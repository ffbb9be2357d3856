"""A source whose data lives in Redis, so several worker processes poll the same world.

It also records every fetch's start and end (with the worker's pid), which is how the
tests prove that one stream is never polled twice at once.
"""

from __future__ import annotations

import asyncio
import os
import time

import orjson
import redis.asyncio as aioredis

from herald.sources.base import FetchResult, PollContext
from herald.sources.models import Tweet


def posts_key(prefix: str, username: str) -> str:
    return f"{prefix}:test:posts:{username.lower()}"


def polls_key(prefix: str) -> str:
    return f"{prefix}:test:polls"


async def post(client: aioredis.Redis, prefix: str, username: str, text: str) -> str:
    tweet_id = str(10**18 + await client.incr(f"{prefix}:test:ids"))
    body = {"id": tweet_id, "text": text, "author": username}
    await client.lpush(posts_key(prefix, username), orjson.dumps(body))
    return tweet_id


class RedisTestSource:
    stream_types: tuple[str, ...] = ("tweet",)

    def __init__(
        self, redis_url: str | None, prefix: str, *, delay: float = 0.0, page: int = 20
    ) -> None:
        self.url = redis_url
        self._prefix = prefix
        self._delay = delay
        self._page = page
        self._client: aioredis.Redis | None = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            assert self.url, "set the source's url before its first poll"
            self._client = aioredis.from_url(self.url)
        return self._client

    async def fetch(self, ctx: PollContext) -> FetchResult:
        client = self._redis()
        pid = os.getpid()
        await client.rpush(
            polls_key(self._prefix), f"{ctx.stream_id} {pid} start {time.time():.6f}"
        )
        if self._delay:
            await asyncio.sleep(self._delay)
        raw = await client.lrange(posts_key(self._prefix, ctx.username), 0, self._page - 1)
        items = [
            Tweet(id=p["id"], text=p["text"], author=p["author"])
            for p in (orjson.loads(r) for r in raw)
        ]
        await client.rpush(polls_key(self._prefix), f"{ctx.stream_id} {pid} end {time.time():.6f}")
        return FetchResult(items=items)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def poll_log(client: aioredis.Redis, prefix: str) -> dict[str, list[tuple[str, int, float]]]:
    """stream id -> [(start|end, pid, time)] in recorded order."""
    out: dict[str, list[tuple[str, int, float]]] = {}
    for raw in await client.lrange(polls_key(prefix), 0, -1):
        stream_id, pid, what, at = raw.decode().split()
        out.setdefault(stream_id, []).append((what, int(pid), float(at)))
    return out

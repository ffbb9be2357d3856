"""A worker's heartbeat on real Redis: there before its first job, renewed while it runs,
gone the moment it stops cleanly; and the token of every poll lock it takes, recorded."""

from __future__ import annotations

import asyncio
import os
import time

import redis.asyncio as aioredis

from herald.config import Settings
from herald.service import Herald
from herald.sources.memory import MemorySource


async def test_heartbeat_lives_while_the_worker_runs_and_records_its_locks(
    settings: Settings, source: MemorySource
) -> None:
    settings = settings.model_copy(update={"worker_heartbeat_ttl": 1.0})
    async with Herald(settings, sources=[source], delivery=False) as herald:
        assert herald.worker is not None
        worker, keys, redis = herald.worker.id, herald.keys, herald.redis
        beats = await herald.scheduler.liveness.workers()
        assert beats[worker]["pid"] == os.getpid()
        assert 0 < await redis.pttl(keys.worker_alive(worker)) <= 1000
        first = float(str(beats[worker]["at"]))

        sid = (await herald.manager.create("tweet", "hb", interval=0.2))["id"]
        deadline = time.monotonic() + 15
        while True:  # renewed well within its TTL, and a poll's lock recorded meanwhile
            beats = await herald.scheduler.liveness.workers()
            token = await redis.hget(keys.worker_locks(worker), sid)
            if float(str(beats[worker]["at"])) > first + 1.5 and token is not None:
                break
            assert time.monotonic() < deadline, f"heartbeat {beats}, recorded lock {token!r}"
            await asyncio.sleep(0.05)
        assert len(token) == 16
        assert herald.store.lock_holder == worker
    client = aioredis.from_url(settings.external_redis_url())
    try:
        assert await client.get(keys.worker_alive(worker)) is None
    finally:
        await client.aclose()

"""The engine's parts on a real Redis, wired as the service wires them."""

from __future__ import annotations

import redis.asyncio as aioredis

from herald.engine.liveness import Liveness
from herald.engine.scheduler import Scheduler
from herald.store.heartbeats import RedisHeartbeats
from herald.store.jobs import HeraldQueue
from herald.store.keys import Keys
from herald.store.locks import RedisLockStore


def scheduler_on(redis: aioredis.Redis, keys: Keys, *, job_timeout: float) -> Scheduler:
    liveness = Liveness(RedisHeartbeats(redis, keys), RedisLockStore(redis, keys))
    return Scheduler(HeraldQueue(redis, keys), liveness, job_timeout=job_timeout)

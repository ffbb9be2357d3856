"""The backend a store contract test runs on (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from herald.store.accounts import AccountRecords, AccountRecordStore
from herald.store.cursors import CursorStore, RedisCursorStore
from herald.store.engagement import EngagementStore, RedisEngagementStore
from herald.store.heartbeats import HeartbeatStore, RedisHeartbeats
from herald.store.keys import Keys
from herald.store.locks import LockStore, RedisLockStore
from herald.store.memory import (
    MemoryAccountRecords,
    MemoryCursorStore,
    MemoryEngagementStore,
    MemoryHeartbeats,
    MemoryLockStore,
    MemoryPresence,
    MemoryPushStore,
    MemorySeenStore,
    MemorySnapshotStore,
)
from herald.store.presence import PresenceStore, RedisPresence
from herald.store.push import PushStore, RedisPushStore
from herald.store.seen import RedisSeenStore, SeenStore
from herald.store.snapshot import RedisSnapshotStore, SnapshotStore


@dataclass
class Backend:
    """Where a contract test runs: ``redis`` is None for the in-memory twin."""

    name: str
    keys: Keys
    redis: aioredis.Redis | None

    @property
    def client(self) -> aioredis.Redis:
        assert self.redis is not None, "the in-memory twin has no Redis"
        return self.redis

    async def ttl_ms(self, key: str) -> int:
        return int(await self.client.pttl(key))


def seen_on(backend: Backend, *, limit: int = 1000, ttl: int = 3600) -> SeenStore:
    if backend.redis is None:
        return MemorySeenStore(limit=limit)
    return RedisSeenStore(backend.redis, backend.keys, limit=limit, ttl=ttl)


def snapshots_on(backend: Backend, *, ttl: int = 3600) -> SnapshotStore:
    if backend.redis is None:
        return MemorySnapshotStore()
    return RedisSnapshotStore(backend.redis, backend.keys, ttl=ttl)


def cursors_on(backend: Backend, *, ttl: int = 3600) -> CursorStore:
    if backend.redis is None:
        return MemoryCursorStore()
    return RedisCursorStore(backend.redis, backend.keys, ttl=ttl)


def locks_on(backend: Backend) -> LockStore:
    if backend.redis is None:
        return MemoryLockStore()
    return RedisLockStore(backend.redis, backend.keys)


def heartbeats_on(backend: Backend) -> HeartbeatStore:
    if backend.redis is None:
        return MemoryHeartbeats()
    return RedisHeartbeats(backend.redis, backend.keys)


def accounts_on(backend: Backend) -> AccountRecordStore:
    if backend.redis is None:
        return MemoryAccountRecords()
    return AccountRecords(backend.redis, backend.keys)


def push_on(backend: Backend, *, ttl: int = 3600) -> PushStore:
    if backend.redis is None:
        return MemoryPushStore()
    return RedisPushStore(backend.redis, backend.keys, ttl=ttl, history_size=100)


async def set_stream_status(
    backend: Backend, store: PushStore, stream_id: str, status: str
) -> None:
    """What the append script reads of a stream: its state hash (the twin: its own map)."""
    if isinstance(store, MemoryPushStore):
        store.set_stream_status(stream_id, status)
    else:
        await backend.client.hset(backend.keys.state(stream_id), "status", status)


def engagement_on(backend: Backend, *, limit: int = 100, ttl: int = 3600) -> EngagementStore:
    if backend.redis is None:
        return MemoryEngagementStore(limit=limit)
    return RedisEngagementStore(backend.redis, backend.keys, limit=limit, ttl=ttl)


def presence_on(backend: Backend) -> PresenceStore:
    if backend.redis is None:
        return MemoryPresence()
    return RedisPresence(backend.redis, backend.keys)

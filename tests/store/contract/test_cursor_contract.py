"""The CursorStore contract, on the twin, the embedded Valkey and Redis 7; and the Redis
form reads what ``StreamStore.commit_poll`` writes."""

from __future__ import annotations

import time

from backends import Backend, cursors_on

from herald.store.cursors import encode_cursor
from herald.store.streams import StreamRecord, StreamStore

STREAM = "s1"


async def test_no_cursor_reads_empty(backend: Backend) -> None:
    assert await cursors_on(backend).load(STREAM) == {}


async def test_save_replaces_the_cursor(backend: Backend) -> None:
    cursors = cursors_on(backend)
    await cursors.save(STREAM, {"min_id": "10", "page": "a"})
    await cursors.save(STREAM, {"min_id": "12"})
    assert await cursors.load(STREAM) == {"min_id": "12"}
    await cursors.save(STREAM, {})
    assert await cursors.load(STREAM) == {}
    assert await cursors.load("other") == {}, "per stream"


async def test_commit_poll_writes_the_cursor_the_store_reads(redis_backend: Backend) -> None:
    streams = StreamStore(redis_backend.client, redis_backend.keys, ttl=100)
    record = StreamRecord(
        id=STREAM, type="x:tweet", username="alice", interval=60.0, created_at=time.time()
    )
    await streams.create(record)
    state = {"seq": 1, "cursor": encode_cursor({"since_id": "42"})}
    assert await streams.commit_poll(STREAM, state)
    assert await cursors_on(redis_backend).load(STREAM) == {"since_id": "42"}
    got = await streams.get(STREAM)
    assert got is not None and got.cursor == {"since_id": "42"}


async def test_save_renews_the_state_ttl(redis_backend: Backend) -> None:
    cursors = cursors_on(redis_backend, ttl=100)
    key = redis_backend.keys.state(STREAM)
    await cursors.save(STREAM, {"a": "1"})
    await redis_backend.client.pexpire(key, 5_000)
    await cursors.save(STREAM, {"a": "2"})
    assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000

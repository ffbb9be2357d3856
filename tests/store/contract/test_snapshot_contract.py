"""The SnapshotStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

from backends import Backend, snapshots_on

STREAM = "s1"


async def test_empty_before_the_baseline(backend: Backend) -> None:
    assert await snapshots_on(backend).load(STREAM) == {}


async def test_apply_adds_and_removes(backend: Backend) -> None:
    snapshots = snapshots_on(backend)
    await snapshots.apply(STREAM, {"1": "alice", "2": "bob", "3": "carol"}, [])
    await snapshots.apply(STREAM, {"4": "dave", "2": "bobby"}, ["3", "99"])
    assert await snapshots.load(STREAM) == {"1": "alice", "2": "bobby", "4": "dave"}
    assert await snapshots.load("other") == {}, "per stream"


async def test_retried_apply_is_idempotent(backend: Backend) -> None:
    snapshots = snapshots_on(backend)
    await snapshots.apply(STREAM, {"1": "alice", "2": "bob"}, [])
    for _ in range(2):
        await snapshots.apply(STREAM, {"3": "carol"}, ["1"])
    assert await snapshots.load(STREAM) == {"2": "bob", "3": "carol"}


async def test_removing_everyone_empties_it(backend: Backend) -> None:
    snapshots = snapshots_on(backend)
    await snapshots.apply(STREAM, {"1": "alice"}, [])
    await snapshots.apply(STREAM, {}, ["1"])
    assert await snapshots.load(STREAM) == {}


async def test_apply_renews_the_ttl_even_when_nothing_changed(redis_backend: Backend) -> None:
    snapshots = snapshots_on(redis_backend, ttl=100)
    key = redis_backend.keys.snapshot(STREAM)
    await snapshots.apply(STREAM, {"1": "alice"}, [])
    await redis_backend.client.pexpire(key, 5_000)
    await snapshots.apply(STREAM, {}, [])
    assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000

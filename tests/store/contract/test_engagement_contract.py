"""The EngagementStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import asyncio

from backends import Backend, engagement_on

from herald.store.engagement import Tracked

STREAM = "s1"
BIG = 2_082_640_274_845_811_115  # a real snowflake: above 2**53, exact only as text


def tracked(object_id: str, likes: int = 0, misses: int = 0) -> Tracked:
    tweet = {"id": object_id, "text": f"tweet {object_id}", "author": "a", "url": "u"}
    return Tracked(tweet, {"likes": likes}, misses)


async def test_nothing_is_tracked_before_a_save(backend: Backend) -> None:
    store = engagement_on(backend)
    assert await store.load(STREAM, [], None) == {}
    assert await store.load(STREAM, ["1", "2"], 0) == {}


async def test_load_gives_the_asked_ids_and_those_above_the_floor(backend: Backend) -> None:
    store = engagement_on(backend)
    ids = [str(BIG + i) for i in (0, 1, 2, 10, 11)]
    await store.save(STREAM, {i: tracked(i, likes=n) for n, i in enumerate(ids)}, [])
    assert set(await store.load(STREAM, [ids[0]], None)) == {ids[0]}
    # strictly above the floor, compared exactly (a float would merge BIG+1 and BIG+2)
    found = await store.load(STREAM, [ids[0]], BIG + 1)
    assert set(found) == {ids[0], ids[2], ids[3], ids[4]}
    assert found[ids[3]] == tracked(ids[3], likes=3)
    assert set(await store.load(STREAM, ["999"], BIG + 11)) == set()
    assert await store.load("other", ids, 0) == {}, "per stream"


async def test_short_ids_sort_below_long_ones(backend: Backend) -> None:
    store = engagement_on(backend)
    await store.save(STREAM, {"9": tracked("9"), "10": tracked("10"), "100": tracked("100")}, [])
    assert set(await store.load(STREAM, [], 9)) == {"10", "100"}


async def test_save_updates_drops_and_is_idempotent(backend: Backend) -> None:
    store = engagement_on(backend)
    await store.save(STREAM, {"1": tracked("1"), "2": tracked("2")}, [])
    batch = {"1": tracked("1", likes=5, misses=1)}
    await store.save(STREAM, batch, ["2"])
    await asyncio.gather(store.save(STREAM, batch, ["2"]), store.save(STREAM, batch, ["2"]))
    assert await store.load(STREAM, ["1", "2"], 0) == {"1": tracked("1", likes=5, misses=1)}


async def test_the_newest_limit_are_kept(backend: Backend) -> None:
    store = engagement_on(backend, limit=3)
    ids = [str(BIG + i) for i in range(5)]
    await store.save(STREAM, {i: tracked(i) for i in ids[2:]}, [])
    await store.save(STREAM, {i: tracked(i) for i in ids[:2]}, [])  # older ones, late
    assert set(await store.load(STREAM, [], 0)) == set(ids[2:])
    await store.save(STREAM, {"99": tracked("99")}, [])  # a short id is the oldest
    assert set(await store.load(STREAM, [], 0)) == set(ids[2:])


async def test_save_renews_the_ttl(redis_backend: Backend) -> None:
    store = engagement_on(redis_backend, ttl=100)
    key = redis_backend.keys.engagement(STREAM)
    await store.save(STREAM, {"1": tracked("1")}, [])
    await redis_backend.client.pexpire(key, 5_000)
    await store.save(STREAM, {}, [])  # a poll that changed nothing still renews it
    assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000
    await store.save(STREAM, {}, ["1"])
    assert not await redis_backend.client.exists(key)

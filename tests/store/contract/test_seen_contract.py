"""The SeenStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import asyncio

from backends import Backend, seen_on

from herald.store.seen import NOTHING

STREAM = "s1"


async def test_nothing_seen_before_a_remember(backend: Backend) -> None:
    seen = seen_on(backend)
    assert await seen.check(STREAM, []) == NOTHING
    found = await seen.check(STREAM, ["10", "11"])
    assert found.already == frozenset() and found.floor is None


async def test_remembered_ids_are_seen_with_the_floor(backend: Backend) -> None:
    seen = seen_on(backend)
    await seen.remember(STREAM, {"100": 100, "105": 105, "103": 103})
    found = await seen.check(STREAM, ["99", "100", "103", "200"])
    assert found.already == {"100", "103"}
    assert found.floor == 100
    assert (await seen.check("other", ["100"])).already == frozenset(), "per stream"


async def test_retried_remember_is_idempotent(backend: Backend) -> None:
    seen = seen_on(backend, limit=3)
    batch = {"1": 1, "2": 2, "3": 3}
    await seen.remember(STREAM, batch)
    await seen.remember(STREAM, batch)  # the same poll, retried
    await asyncio.gather(seen.remember(STREAM, batch), seen.remember(STREAM, batch))
    found = await seen.check(STREAM, ["1", "2", "3"])
    assert found.already == {"1", "2", "3"} and found.floor == 1


async def test_trimming_keeps_the_newest(backend: Backend) -> None:
    seen = seen_on(backend, limit=3)
    await seen.remember(STREAM, {"5": 5, "1": 1, "9": 9})
    await seen.remember(STREAM, {"7": 7, "2": 2})  # older ones arrive late
    found = await seen.check(STREAM, ["1", "2", "5", "7", "9"])
    assert found.already == {"5", "7", "9"}
    assert found.floor == 5, "the floor is the oldest id kept, not the oldest ever seen"


async def test_large_snowflake_orders_keep_their_floor(backend: Backend) -> None:
    seen = seen_on(backend)
    big = 1_850_000_000_000_000_000
    await seen.remember(STREAM, {str(big): big, str(big + 4096): big + 4096})
    found = await seen.check(STREAM, [str(big)])
    assert found.already == {str(big)}
    assert found.floor is not None and abs(found.floor - big) < 4096


async def test_remember_renews_the_ttl(redis_backend: Backend) -> None:
    seen = seen_on(redis_backend, ttl=100)
    key = redis_backend.keys.seen(STREAM)
    await seen.remember(STREAM, {"1": 1})
    await redis_backend.client.pexpire(key, 5_000)
    await seen.remember(STREAM, {"2": 2})
    assert 95_000 <= await redis_backend.ttl_ms(key) <= 100_000
    await seen.remember(STREAM, {})  # nothing new: no write at all
    assert await redis_backend.ttl_ms(key) > 0

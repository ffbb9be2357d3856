"""The BskyStore contract (handle cache, follow map), on the twin, the embedded Valkey and
Redis 7."""

from __future__ import annotations

import time

from backends import Backend

from herald.store.bsky import BskyStore, RedisBskyStore
from herald.store.memory import MemoryBskyStore

DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
OTHER = "did:plc:z72i7hdynmk6r22z27h6tvur"


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def bsky_on(backend: Backend, *, handle_ttl: int = 60, follow_ttl: int = 3600) -> BskyStore:
    if backend.redis is None:
        return MemoryBskyStore(handle_ttl=handle_ttl, follow_ttl=follow_ttl)
    return RedisBskyStore(backend.redis, backend.keys, handle_ttl=handle_ttl, follow_ttl=follow_ttl)


async def test_handles_are_kept_and_forgotten(backend: Backend) -> None:
    store = bsky_on(backend)
    assert await store.handle_did("alice.test") is None
    await store.save_handle("alice.test", DID)
    await store.save_handle("bob.test", OTHER)
    assert await store.handle_did("alice.test") == DID
    await store.forget_handles(["alice.test"])
    assert await store.handle_did("alice.test") is None
    assert await store.handle_did("bob.test") == OTHER, "only the named handle is forgotten"
    await store.forget_handles([])


async def test_follow_map_names_each_subject(backend: Backend) -> None:
    store = bsky_on(backend)
    await store.save_follows([(OTHER, "3mmoojocxvr2s", DID), (OTHER, "3mmoojocxvr2t", OTHER)])
    subjects = await store.follow_subjects(
        [(OTHER, "3mmoojocxvr2t"), (OTHER, "unknown"), (OTHER, "3mmoojocxvr2s")]
    )
    assert subjects == [OTHER, None, DID]
    await store.forget_follows([(OTHER, "3mmoojocxvr2s")])
    assert await store.follow_subjects([(OTHER, "3mmoojocxvr2s"), (OTHER, "3mmoojocxvr2t")]) == [
        None,
        OTHER,
    ]
    assert await store.follow_subjects([]) == []
    await store.save_follows([])
    await store.forget_follows([])


async def test_shared_between_instances(backend: Backend) -> None:
    """Two workers' stores see one map (for the twin: the same object)."""
    first = bsky_on(backend)
    second = first if backend.redis is None else bsky_on(backend)
    await first.save_follows([(OTHER, "r1", DID)])
    await first.save_handle("alice.test", DID)
    assert await second.follow_subjects([(OTHER, "r1")]) == [DID]
    assert await second.handle_did("alice.test") == DID


async def test_entries_expire() -> None:
    clock = Clock()
    store = MemoryBskyStore(handle_ttl=60, follow_ttl=3600, clock=clock)
    await store.save_handle("alice.test", DID)
    await store.save_follows([(OTHER, "r1", DID)])
    clock.now += 61
    assert await store.handle_did("alice.test") is None
    assert await store.follow_subjects([(OTHER, "r1")]) == [DID]
    clock.now += 3600
    assert await store.follow_subjects([(OTHER, "r1")]) == [None]


async def test_redis_keys_carry_their_ttls(redis_backend: Backend) -> None:
    store = bsky_on(redis_backend, handle_ttl=60, follow_ttl=3600)
    await store.save_handle("alice.test", DID)
    await store.save_follows([(OTHER, "r1", DID)])
    keys = redis_backend.keys
    assert 0 < await redis_backend.ttl_ms(keys.bsky_handle("alice.test")) <= 60_000
    assert 3_500_000 < await redis_backend.ttl_ms(keys.bsky_follow(OTHER, "r1")) <= 3_600_000


async def test_follower_counts_are_kept_per_stream(backend: Backend) -> None:
    store = bsky_on(backend)
    assert await store.follower_counts(["f1", "f2"]) == [None, None]
    await store.save_follower_counts([("f1", 120), ("f2", 0)])
    assert await store.follower_counts(["f2", "f3", "f1"]) == [0, None, 120]
    await store.save_follower_counts([("f1", 119)])
    assert await store.follower_counts(["f1"]) == [119], "the last count reported wins"
    assert await store.follower_counts([]) == []
    await store.save_follower_counts([])


async def test_follower_counts_expire_with_the_follow_ttl() -> None:
    clock = Clock()
    store = MemoryBskyStore(follow_ttl=3600, clock=clock)
    await store.save_follower_counts([("f1", 7)])
    clock.now += 3599
    assert await store.follower_counts(["f1"]) == [7]
    clock.now += 2
    assert await store.follower_counts(["f1"]) == [None]


async def test_redis_count_keys_carry_the_follow_ttl(redis_backend: Backend) -> None:
    store = bsky_on(redis_backend, follow_ttl=3600)
    await store.save_follower_counts([("f1", 7)])
    key = redis_backend.keys.bsky_count("f1")
    assert 3_500_000 < await redis_backend.ttl_ms(key) <= 3_600_000
    await redis_backend.redis.set(key, "garbage")  # type: ignore[union-attr]
    assert await store.follower_counts(["f1"]) == [None], "an unreadable count is a baseline"

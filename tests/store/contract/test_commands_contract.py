"""The CommandStore contract, on the twin, the embedded Valkey and Redis 7."""

from __future__ import annotations

import asyncio
import time

from backends import Backend

from herald.store.commands import CommandStore, RedisCommandStore
from herald.store.memory import MemoryCommandStore


def commands_on(backend: Backend, *, keep: int = 100) -> CommandStore:
    if backend.redis is None:
        return MemoryCommandStore(keep=keep)
    return RedisCommandStore(backend.redis, backend.keys, ttl=3600, keep=keep)


def doc(command_id: str, text: str = "hi") -> dict[str, object]:
    return {"id": command_id, "type": "post_tweet", "data": {"text": text}, "state": "requested"}


def now_ms() -> int:
    return int(time.time() * 1000)


async def test_one_claim_wins_and_the_rest_get_the_stored_command(backend: Backend) -> None:
    store = commands_on(backend)
    assert isinstance(store, CommandStore)
    claims = await asyncio.gather(
        *(store.claim("c1", doc("c1", f"text {i}"), now_ms(), now_ms() + 1000) for i in range(8))
    )
    winners = [c for c in claims if c.claimed]
    assert len(winners) == 1
    stored = await store.get("c1")
    assert stored is not None
    assert stored.state == "requested"
    for claim in claims:
        if not claim.claimed:
            assert claim.doc == stored.doc
            assert claim.state == "requested"


async def test_moves_are_compare_and_set(backend: Backend) -> None:
    store = commands_on(backend)
    await store.claim("c1", doc("c1"), now_ms(), now_ms() + 1000)
    running = {**doc("c1"), "state": "running"}
    assert await store.move("c1", ("requested",), "running", running, lease_until_ms=5)
    assert not await store.move("c1", ("requested",), "running", running)
    results = await asyncio.gather(
        store.move("c1", ("running",), "succeeded", {**doc("c1"), "state": "succeeded"}),
        store.move("c1", ("running",), "uncertain", {**doc("c1"), "state": "uncertain"}),
    )
    assert sorted(results) == [False, True]
    stored = await store.get("c1")
    assert stored is not None
    assert stored.state in ("succeeded", "uncertain")
    assert stored.doc["state"] == stored.state
    assert not await store.move("nope", ("requested",), "running", running)


async def test_open_ids_hold_what_is_not_settled(backend: Backend) -> None:
    store = commands_on(backend)
    base = now_ms()
    for i, command_id in enumerate(("a", "b", "c")):
        await store.claim(command_id, doc(command_id), base + i, base + 1000)
    assert await store.open_ids(10) == ["a", "b", "c"]
    await store.move("a", ("requested",), "failed", doc("a"))
    await store.close("a")
    await store.move("b", ("requested",), "uncertain", doc("b"))
    assert await store.open_ids(10) == ["b", "c"]
    await store.move("b", ("uncertain",), "succeeded", doc("b"))
    await store.close("b")
    assert await store.open_ids(1) == ["c"]


async def test_recent_is_newest_first_and_bounded(backend: Backend) -> None:
    store = commands_on(backend, keep=3)
    base = now_ms()
    for i in range(5):
        await store.claim(f"c{i}", doc(f"c{i}"), base + i, base + 1000)
    assert [s.doc["id"] for s in await store.recent(10)] == ["c4", "c3", "c2"]
    assert [s.doc["id"] for s in await store.recent(2)] == ["c4", "c3"]
    assert await store.get("c0") is not None  # out of the list, still answered by id


async def test_reserve_counts_each_command_once_per_window(backend: Backend) -> None:
    store = commands_on(backend)
    windows = [(60.0, 2), (3600.0, 10)]
    assert await store.reserve("acct", "w1", windows) == 0
    assert await store.reserve("acct", "w1", windows) == 0  # the same command again
    assert await store.reserve("acct", "w2", windows) == 0
    wait = await store.reserve("acct", "w3", windows)
    assert 0 < wait <= 60
    assert await store.reserve("other", "w3", windows) == 0  # per account
    assert await store.reserve("acct", "w4", []) == 0  # no limits


async def test_reserve_under_a_race_never_overspends(backend: Backend) -> None:
    store = commands_on(backend)
    waits = await asyncio.gather(*(store.reserve("acct", f"w{i}", [(60.0, 3)]) for i in range(10)))
    assert sum(1 for w in waits if w == 0) == 3


async def test_pause_until_it_lapses_or_is_lifted(backend: Backend) -> None:
    store = commands_on(backend)
    assert await store.paused("acct") is None
    await store.pause("acct", {"reason": "226", "health": "write_paused"}, 3600)
    assert await store.paused("acct") == {"reason": "226", "health": "write_paused"}
    assert await store.paused("other") is None
    assert await store.resume("acct")
    assert not await store.resume("acct")
    await store.pause("acct", {"reason": "short"}, 0.05)

    async def lapsed() -> bool:
        return await store.paused("acct") is None

    from tests.waiting import wait_until

    await wait_until(lapsed, timeout=5, what="the pause lapsed")


async def test_a_settled_command_stays_open_until_closed(backend: Backend) -> None:
    store = commands_on(backend)
    await store.claim("c1", doc("c1"), now_ms(), now_ms() + 1000)
    await store.move("c1", ("requested",), "succeeded", {**doc("c1"), "state": "succeeded"})
    assert await store.open_ids(10) == ["c1"]  # its event may not be logged yet
    await store.close("c1")
    assert await store.open_ids(10) == []
    await store.close("c1")  # closing twice is harmless

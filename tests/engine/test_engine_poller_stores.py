"""The poller keeps its state only through the stores it is given: with the in-memory twins
of the seen set and the follower snapshot, it behaves as with Redis (baseline, each new item
once, new and lost followers) and writes no seen or snapshot key."""

from __future__ import annotations

from typing import Any

import pytest

from herald.engine.poller import Poller
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.store.memory import MemorySeenStore, MemorySnapshotStore

BY_HAND = pytest.mark.herald_options(worker=False)


def twin_poller(herald: Herald) -> tuple[Poller, MemorySeenStore, MemorySnapshotStore]:
    seen = MemorySeenStore(limit=herald.settings.seen_limit)
    snapshots = MemorySnapshotStore()
    poller = Poller(
        herald.settings, herald.store, herald.log, herald.sources, seen=seen, snapshots=snapshots
    )
    return poller, seen, snapshots


async def history(herald: Herald, stream_id: str, kind: str) -> list[dict[str, Any]]:
    events = reversed(await herald.manager.history(stream_id, 1000))
    return [e for e in events if e["type"] == kind]


@BY_HAND
async def test_posts_baseline_then_each_new_once_on_the_twins(
    herald: Herald, source: MemorySource
) -> None:
    poller, seen, _ = twin_poller(herald)
    for i in range(5):
        source.post("alice", f"old {i}")
    stream = (await herald.manager.create("tweet", "@alice", interval=3600))["id"]
    first = await poller.poll(stream)
    assert (first.outcome, first.events) == ("baseline", 0)
    new = [source.post("alice", f"new {i}") for i in range(2)]
    second = await poller.poll(stream)
    assert (second.outcome, second.events) == ("ok", 2)
    third = await poller.poll(stream)
    assert (third.outcome, third.events) == ("ok", 0), "nothing twice"
    found = await history(herald, stream, "stream:tweet:new")
    assert sorted(e["tweet"]["id"] for e in found) == sorted(t.id for t in new)
    assert (await seen.check(stream, [t.id for t in new])).already == {t.id for t in new}
    assert not await herald.redis.exists(herald.keys.seen(stream)), "the poller wrote Redis"
    assert await herald.store.locks.owner(stream) is None, "every poll released its lock"


@BY_HAND
async def test_followers_new_and_lost_on_the_twins(herald: Herald, source: MemorySource) -> None:
    poller, _, snapshots = twin_poller(herald)
    for name in ("f1", "f2", "f3"):
        source.follow("carol", name)
    stream = (await herald.manager.create("follower", "carol", interval=3600))["id"]
    assert (await poller.poll(stream)).events == 0
    source.follow("carol", "f4")
    source.unfollow("carol", "f2")
    assert (await poller.poll(stream)).events == 2  # new and lost; the count is unchanged
    new = await history(herald, stream, "stream:follower:new")
    lost = await history(herald, stream, "stream:follower:lost")
    assert [e["follower"]["username"] for e in new] == ["f4"]
    assert [e["unfollower"]["username"] for e in lost] == ["f2"]
    assert sorted((await snapshots.load(stream)).values()) == ["f1", "f3", "f4"]
    assert not await herald.redis.exists(herald.keys.snapshot(stream)), "the poller wrote Redis"

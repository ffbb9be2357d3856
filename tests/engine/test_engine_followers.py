"""Follower swaps: an unchanged count hides a new follower and a lost one; herald finds both.

The newest page is read every poll (``new`` on the next poll) and the whole snapshot every
``HERALD_FOLLOWER_RESYNC_POLLS`` polls (``lost`` within that many polls), and ``lost`` only
ever comes from a complete snapshot.
"""

from __future__ import annotations

from herald.config import Settings
from tests.engine.x_world import XWorld, x_world

RESYNC = 3


async def names(world: XWorld, stream: str, kind: str) -> list[str]:
    key = "unfollower" if kind == "stream:follower:lost" else "follower"
    return [e[key]["username"] for e in await world.events(stream, kind)]


async def test_a_swap_gives_new_on_the_next_poll_and_lost_within_the_resync_bound(
    settings: Settings,
) -> None:
    async with x_world(settings, follower_resync_polls=RESYNC) as world:
        await world.control("POST", "/users", json={"username": "gina", "followers": 150})
        stream = await world.start("follower", "gina")
        assert (await world.poll(stream))["outcome"] == "baseline"
        # one in, one out: the count stays 150; the one who left is on the second page
        await world.control("POST", "/users/gina/followers", json={"username": "newbie"})
        await world.control("DELETE", "/users/gina/followers/gina_fan1")
        before = await world.requests("Followers")
        assert (await world.poll(stream))["events"] == 1
        assert await world.requests("Followers") - before == 1  # the newest page only
        assert await names(world, stream, "stream:follower:new") == ["newbie"]
        assert await names(world, stream, "stream:follower:lost") == []  # not from one page
        assert await world.events(stream, "stream:follower:count") == []
        polls = 1
        while not await names(world, stream, "stream:follower:lost"):
            assert polls < RESYNC, f"no lost follower within {RESYNC} polls"
            await world.poll(stream)
            polls += 1
        assert await names(world, stream, "stream:follower:lost") == ["gina_fan1"]
        for _ in range(RESYNC + 1):  # later resyncs report nothing again
            assert (await world.poll(stream))["events"] == 0
        assert await names(world, stream, "stream:follower:new") == ["newbie"]
        assert await names(world, stream, "stream:follower:lost") == ["gina_fan1"]


async def test_a_swap_on_a_small_account(settings: Settings) -> None:
    async with x_world(settings, follower_resync_polls=RESYNC) as world:
        stream = await world.start("follower", "alice")  # followed by bob and carol
        await world.poll(stream)
        await world.control("POST", "/users/alice/followers", json={"username": "dave"})
        await world.control("DELETE", "/users/alice/followers/bob")
        await world.poll(stream)
        assert await names(world, stream, "stream:follower:new") == ["dave"]
        for _ in range(RESYNC - 1):
            await world.poll(stream)
        assert await names(world, stream, "stream:follower:lost") == ["bob"]


async def test_new_followers_beyond_max_pages_above_the_limit_give_a_gap(
    settings: Settings,
) -> None:
    async with x_world(settings, max_pages=2) as world:
        await world.control("POST", "/users", json={"username": "star", "followers": 40})
        stream = await world.start("follower", "star", followerSnapshotLimit=25)
        await world.poll(stream)
        for i in range(150):
            await world.control("POST", "/users/star/followers", json={"username": f"new{i}"})
        await world.poll(stream)
        events = [e for e in await world.events(stream) if e["type"] != "stream:started"]
        assert events[0]["type"] == "stream:gap"
        # 150 more by the count; the two pages read hold 20 and 100 of them
        assert events[0]["missed"] == 30 and events[0]["pages"] == 2
        assert events[0]["streamType"] == "follower"
        count = await world.events(stream, "stream:follower:count")
        assert [c["followersCount"] for c in count] == [190]
        new = await names(world, stream, "stream:follower:new")
        assert sorted(new) == sorted(f"new{i}" for i in range(30, 150))
        assert await world.events(stream, "stream:follower:lost") == []

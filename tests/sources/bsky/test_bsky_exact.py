"""Every Bluesky type reports exactly what the stand-in's frames hold for its target, once:
a seeded mix of posts, mentions, searches, follows, unfollows and deletes goes through a
live fakesky, is decoded in uneven batches across a reconnect that loses one batch's
commit, and is held against the frames the stand-in kept."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from herald.push.base import Frame, PushChange
from herald.sources.bsky import BskySource
from tests.sources.bsky.support import DID_A, expected_changes, source_for, stream
from tests.testing.fakesky_support import FakeSkyClient, fakesky

STREAMS = [
    stream("p", "bsky:post", "alice.test"),
    stream("m", "bsky:mention", DID_A),
    stream("f", "bsky:follower", "@alice.test"),
    stream("q", "bsky:search", "herald"),
]
Key = tuple[str, str, str]


@pytest.fixture
async def sky() -> AsyncIterator[FakeSkyClient]:
    async with fakesky() as client:
        for handle in ("dave.test", "erin.test"):
            await client.user(handle)
        yield client


async def _workload(sky: FakeSkyClient, steps: int, seed: int) -> int:
    """A seeded mix of everything; returns the ``time_us`` of the closing frame."""
    rng = random.Random(seed)
    others = ["bob.test", "carol.test", "dave.test", "erin.test"]
    following: set[str] = set()
    mine: list[str] = []
    for i in range(steps):
        who = rng.choice(others)
        roll = rng.random()
        if roll < 0.2:
            text = rng.choice(["hello", "about herald", "HERALD news", "heralded"])
            mine.append(
                (await sky.control("POST", "/users/alice.test/posts", text=f"{text} {i}"))["rkey"]
            )
        elif roll < 0.4:
            text = rng.choice(["hi", "herald?", "nothing"])
            await sky.control("POST", "/users/alice.test/mentions", by=who, text=f"{text} {i}")
        elif roll < 0.55:
            await sky.control(
                "POST", f"/users/{who}/posts", text=rng.choice(["Herald", "x", "herald!"])
            )
        elif roll < 0.75:
            if who in following:
                await sky.control("DELETE", f"/users/alice.test/followers/{who}")
                following.discard(who)
            else:
                await sky.control("POST", "/users/alice.test/followers", follower=who)
                following.add(who)
        elif roll < 0.85 and mine:
            await sky.control(
                "DELETE", f"/users/alice.test/posts/{mine.pop(rng.randrange(len(mine)))}"
            )
        elif roll < 0.95:
            other = rng.choice([o for o in others if o != who])
            path = f"/users/{other}/followers"
            try:
                await sky.control("POST", path, follower=who)
            except AssertionError:  # already following: unfollow instead
                await sky.control("DELETE", f"{path}/{who}")
        else:
            await sky.control("PUT", f"/users/{who}/active", active=True)
    end = await sky.control("POST", "/users/dave.test/posts", text="the end")
    return int(end["time_us"])


def _key(change: PushChange) -> Key:
    return (change.stream_id, change.type.value, change.object_id)


async def _read(
    source: BskySource, sky: FakeSkyClient, cursor: str | None, end: int
) -> list[Frame]:
    conn = await source.connect("bsky", STREAMS, cursor)
    try:
        frames: list[Frame] = []
        while not frames or f'"time_us":{end},' not in str(frames[-1].data):
            frames.append(await asyncio.wait_for(conn.recv(), 10))
        return frames
    finally:
        await conn.aclose()


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_each_type_reports_exactly_its_frames_once(sky: FakeSkyClient, seed: int) -> None:
    source = source_for(api_url=sky.url, jetstream_url=sky.ws_url)
    rng = random.Random(seed)
    try:
        start = (await sky.control("POST", "/users/erin.test/posts", text="start"))["time_us"]
        end = await _workload(sky, 150, seed)
        first = await _read(source, sky, str(start), end)
        log: dict[Key, int] = {}
        cursor: str | None = str(start)
        cut = rng.randrange(len(first) // 3, 2 * len(first) // 3)
        position = 0
        while True:  # a first run, in uneven batches, up to the cut
            size = rng.randint(1, 40)
            out = await source.decode("bsky", first[position : position + size], STREAMS, cursor)
            assert out.errors == [] and out.gaps == []
            position += size
            if position >= cut:
                break  # this batch's commit is lost: its changes never reach the log
            for change in out.changes:
                log[_key(change)] = log.get(_key(change), 0) + 1
            cursor = out.cursor or cursor
        # the next connection resumes from the last committed cursor
        replayed = await _read(source, sky, cursor, end)
        for at in range(0, len(replayed), 25):
            out = await source.decode("bsky", replayed[at : at + 25], STREAMS, cursor)
            cursor = out.cursor or cursor
            for change in out.changes:
                log[_key(change)] = log.get(_key(change), 0) + 1
            assert out.errors == [] and out.gaps == [], "an inclusive replay is no gap"
        truth = (await sky.http.get("/_fakesky/frames", params={"since": start})).json()["frames"]
        expected = expected_changes(truth, DID_A)
        assert set(log) == expected
        assert max(log.values()) == 1, "nothing reported twice, the replay included"
        assert len({k[0] for k in expected}) == 4, "the workload reached every type"
        assert cursor == str(end)
    finally:
        await source.aclose()

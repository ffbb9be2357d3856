"""Follower counts of ``bsky:follower`` streams through the stand-in's getProfile: a
baseline without an event, then ``stream:follower:count`` when the count moves, stable
across a replayed batch, and never at the cost of the follower events."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from herald.events import EventType
from herald.push.base import Decoded, PushChange
from herald.sources.bsky.counts import FollowerCounts
from herald.sources.bsky.types import STREAM_TYPES
from herald.testing.fakesky import create_app
from herald.testing.fakesky.service import FakeSky, Refusal
from tests.sources.bsky.support import DID_A, DID_C, decode, follow, source_for, stream

STREAMS = [stream("f", "bsky:follower", DID_A)]


@pytest.fixture
def app() -> FastAPI:
    return create_app()


def fake_of(app: FastAPI) -> FakeSky:
    fake: FakeSky = app.state.fakesky
    fake.world.create("dave.test")
    return fake


def follows(fake: FakeSky, *who: str) -> list[dict[str, Any]]:
    alice = fake.account("alice.test")
    return [fake.follow(fake.account(w), alice) for w in who]


def counts(out: Decoded) -> list[PushChange]:
    return [c for c in out.changes if c.type is EventType.FOLLOWER_COUNT]


def kinds(out: Decoded) -> list[EventType]:
    return [c.type for c in out.changes]


def test_the_follower_type_declares_the_count_event() -> None:
    [spec] = [t for t in STREAM_TYPES if t.name == "bsky:follower"]
    assert EventType.FOLLOWER_COUNT in spec.events


async def test_a_baseline_then_each_move_of_the_count(app: FastAPI) -> None:
    fake = fake_of(app)
    fake.account("alice.test").followers_base = 100
    source = source_for(app, count_every=0)
    first = await decode(source, follows(fake, "bob.test"), STREAMS)
    assert kinds(first) == [EventType.FOLLOWER_NEW], "the first count is a baseline"
    frames = follows(fake, "carol.test")
    second = await decode(source, frames, STREAMS, cursor=first.cursor)
    assert kinds(second) == [EventType.FOLLOWER_NEW, EventType.FOLLOWER_COUNT]
    [count] = counts(second)
    assert count.stream_id == "f"
    assert count.payload == {"followersCount": 102, "previous": 101, "delta": 1}
    assert count.object_id == f"102@{frames[0]['time_us']}"
    lost = fake.unfollow(fake.account("bob.test"), fake.account("alice.test"))
    third = await decode(source, [lost], STREAMS, cursor=second.cursor)
    assert kinds(third) == [EventType.FOLLOWER_LOST, EventType.FOLLOWER_COUNT]
    assert counts(third)[0].payload == {"followersCount": 101, "previous": 102, "delta": -1}


async def test_an_unchanged_count_is_no_event(app: FastAPI) -> None:
    fake = fake_of(app)
    source = source_for(app, count_every=0)
    first = await decode(source, follows(fake, "bob.test"), STREAMS)
    unseen = follow(DID_C, fake.window.next_time_us(), DID_A)  # the profile does not count it
    out = await decode(source, [unseen], STREAMS, cursor=first.cursor)
    assert kinds(out) == [EventType.FOLLOWER_NEW]
    assert fake.requests["getProfile"] == 2, "asked, and the answer was the same count"


async def test_a_replayed_batch_reports_the_same_count_event(app: FastAPI) -> None:
    fake = fake_of(app)
    source = source_for(app, count_every=0)
    first = await decode(source, follows(fake, "bob.test"), STREAMS)
    await decode(source, [], STREAMS, cursor=first.cursor)  # the baseline is now saved
    assert await source.store.follower_counts(["f"]) == [1]
    frames = follows(fake, "carol.test")
    once = await decode(source, frames, STREAMS, cursor=first.cursor)
    again = await decode(source, frames, STREAMS, cursor=first.cursor)
    assert counts(once) == counts(again) != [], "not appended: reported again, same object id"
    assert await source.store.follower_counts(["f"]) == [1], "saved once the cursor passes"
    done = await decode(source, frames, STREAMS, cursor=again.cursor)
    assert done.changes == []
    assert await source.store.follower_counts(["f"]) == [2]


async def test_a_retried_batch_asks_again_within_the_interval(app: FastAPI) -> None:
    fake = fake_of(app)
    source = source_for(app, count_every=3600.0)
    frames = follows(fake, "bob.test")
    once = await decode(source, frames, STREAMS)
    fake.account("alice.test").followers_base = 5
    again = await decode(source, frames, STREAMS)  # from the same cursor: nothing appended
    assert fake.requests["getProfile"] == 2, "a retry's count is not held back"
    assert counts(once) == counts(again) == [], "a baseline either way"
    later = await decode(source, follows(fake, "carol.test"), STREAMS, cursor=again.cursor)
    assert fake.requests["getProfile"] == 2 and kinds(later) == [EventType.FOLLOWER_NEW]
    assert await source.store.follower_counts(["f"]) == [6], "the retry's baseline is kept"


async def test_a_failed_profile_call_keeps_the_follower_events(app: FastAPI) -> None:
    fake = fake_of(app)
    source = source_for(app, count_every=0)
    source.counts = FollowerCounts(source.api, source.store, every=0, retry_after=0)
    first = await decode(source, follows(fake, "bob.test"), STREAMS)
    fake.refusals.append(Refusal(503, 1, "getProfile"))
    failed = await decode(source, follows(fake, "carol.test"), STREAMS, cursor=first.cursor)
    assert kinds(failed) == [EventType.FOLLOWER_NEW], "the follow is reported, the count waits"
    assert fake.requests["getProfile"] == 2
    later = await decode(source, follows(fake, "dave.test"), STREAMS, cursor=failed.cursor)
    assert [c.payload for c in counts(later)] == [
        {"followersCount": 3, "previous": 1, "delta": 2}
    ], "the next change reports against the last count reported"


async def test_an_unreachable_api_costs_only_the_count() -> None:
    app = create_app()
    fake = fake_of(app)
    source = source_for(api_url="http://127.0.0.1:1", count_every=0)
    first = await decode(source, follows(fake, "bob.test"), STREAMS)
    second = await decode(source, follows(fake, "carol.test"), STREAMS, cursor=first.cursor)
    assert kinds(first) == kinds(second) == [EventType.FOLLOWER_NEW]
    assert second.errors == [] and second.cursor is not None
    await decode(source, [], STREAMS, cursor=second.cursor)
    assert await source.store.follower_counts(["f"]) == [None]
    await source.aclose()


async def test_one_call_per_account_and_at_most_one_per_interval(app: FastAPI) -> None:
    fake = fake_of(app)
    source = source_for(app)  # the default interval: seconds, longer than this test
    streams = [*STREAMS, stream("g", "bsky:follower", "alice.test")]
    first = await decode(source, follows(fake, "bob.test", "carol.test"), streams)
    assert fake.requests["getProfile"] == 1, "one call for both streams of the account"
    await decode(source, [], streams, cursor=first.cursor)
    assert await source.store.follower_counts(["f", "g"]) == [2, 2]
    second = await decode(source, follows(fake, "dave.test"), streams, cursor=first.cursor)
    assert kinds(second) == [EventType.FOLLOWER_NEW] * 2
    assert fake.requests["getProfile"] == 1, "within the interval: the count waits"

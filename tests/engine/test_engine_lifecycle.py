"""The stream lifecycle through the Python API, on real Redis, with an in-memory source."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from herald.errors import RateLimited, StreamExists, StreamNotFound, UpstreamError, ValidationError
from herald.service import Herald
from herald.sources.memory import MemorySource

BY_HAND = pytest.mark.herald_options(worker=False)


async def event_types(herald: Herald, stream_id: str) -> list[str]:
    return [e["type"] for e in reversed(await herald.manager.history(stream_id, 1000))]


async def detected(
    herald: Herald, stream_id: str, kind: str = "stream:tweet:new"
) -> list[dict[str, Any]]:
    return [e for e in reversed(await herald.manager.history(stream_id, 1000)) if e["type"] == kind]


@BY_HAND
async def test_baseline_emits_nothing_then_each_new_item_once_in_order(
    herald: Herald, source: MemorySource
) -> None:
    for i in range(30):
        source.post("alice", f"old {i}")
    stream = await herald.manager.create("tweet", "@alice", interval=3600)
    assert stream["status"] == "active" and stream["interval"] == 3_600_000
    first = await herald.manager.poll_now(stream["id"])
    assert first["outcome"] == "baseline" and first["events"] == 0
    posted = [source.post("alice", f"new {i}") for i in range(3)]
    second = await herald.manager.poll_now(stream["id"])
    assert second["events"] == 3
    third = await herald.manager.poll_now(stream["id"])
    assert third["events"] == 0
    tweets = await detected(herald, stream["id"])
    assert [t["tweet"]["id"] for t in tweets] == [p.id for p in posted]
    assert [t["tweet"]["text"] for t in tweets] == ["new 0", "new 1", "new 2"]
    for t in tweets:
        assert t["eventId"] == f"tweet:{t['tweet']['id']}@{stream['id']}"
        assert t["streamId"] == stream["id"] and t["username"] == "alice"
        assert t["offset"] and t["detectedAt"].endswith("Z")
    status = await herald.manager.status(stream["id"])
    assert status["counts"]["stream:tweet:new"] == 3


@BY_HAND
async def test_old_post_sliding_into_window_and_old_pinned_post_are_not_new(
    herald: Herald, source: MemorySource
) -> None:
    source.page_size = 5
    posts = [source.post("bob", f"p{i}") for i in range(10)]
    stream = await herald.manager.create("tweet", "bob", interval=3600)
    await herald.manager.poll_now(stream["id"])  # baseline: sees p9..p5
    # p9 is deleted upstream: p4 slides into the fetched window; an old post gets pinned
    source._acct("bob").posts = [p for p in source._acct("bob").posts if p.id != posts[9].id]
    old = posts[1]
    source._acct("bob").posts.insert(0, type(old)(**{**_fields(old), "pinned": True}))
    result = await herald.manager.poll_now(stream["id"])
    assert result["events"] == 0


def _fields(tweet: Any) -> dict[str, Any]:
    return {name: getattr(tweet, name) for name in tweet.__slots__}


@BY_HAND
async def test_follower_changes_new_lost_and_count(herald: Herald, source: MemorySource) -> None:
    for name in ("f1", "f2", "f3"):
        source.follow("carol", name)
    stream = await herald.manager.create("follower", "carol", interval=3600)
    assert (await herald.manager.poll_now(stream["id"]))["events"] == 0
    source.follow("carol", "f4")
    source.follow("carol", "f5")
    source.unfollow("carol", "f2")
    result = await herald.manager.poll_now(stream["id"])
    assert result["events"] == 4
    history = await detected(herald, stream["id"], "stream:follower:new")
    assert sorted(e["follower"]["username"] for e in history) == ["f4", "f5"]
    lost = await detected(herald, stream["id"], "stream:follower:lost")
    assert [e["unfollower"]["username"] for e in lost] == ["f2"]
    count = await detected(herald, stream["id"], "stream:follower:count")
    assert count[0]["followersCount"] == 4 and count[0]["previous"] == 3 and count[0]["delta"] == 1
    # re-follow after unfollow is a new event again
    source.follow("carol", "f2")
    await herald.manager.poll_now(stream["id"])
    again = await detected(herald, stream["id"], "stream:follower:new")
    assert [e["follower"]["username"] for e in again][-1] == "f2"


@BY_HAND
async def test_incomplete_snapshot_reports_no_lost_followers(
    herald: Herald, source: MemorySource
) -> None:
    for i in range(5):
        source.follow("dave", f"u{i}")
    stream = await herald.manager.create(
        "follower", "dave", interval=3600, options={"followerSnapshotLimit": 3}
    )
    await herald.manager.poll_now(stream["id"])
    source.unfollow("dave", "u4")  # newest follower leaves: it was in the window
    await herald.manager.poll_now(stream["id"])
    assert await detected(herald, stream["id"], "stream:follower:lost") == []
    counts = await detected(herald, stream["id"], "stream:follower:count")
    assert [c["followersCount"] for c in counts] == [4]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"type": "video", "username": "alice"}, "type"),
        ({"type": "tweet", "username": "not a name"}, "username"),
        ({"type": "tweet", "username": "a" * 16}, "username"),
        ({"type": "tweet", "username": "alice", "interval": 5}, "interval"),
        ({"type": "tweet", "username": "alice", "interval": 7200}, "interval"),
        ({"type": "tweet", "username": "alice", "interval": "60"}, "interval"),
        ({"type": "follower", "username": "alice", "options": {"nope": 1}}, "options"),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_stored(
    herald: Herald, kwargs: dict[str, Any], field: str
) -> None:
    herald.settings.min_interval = 15
    with pytest.raises(ValidationError) as caught:
        await herald.manager.create(**kwargs)
    assert caught.value.detail.startswith(f"{field}")
    assert await herald.manager.list_streams() == []
    assert await herald.redis.keys(f"{herald.keys.prefix}:stream:*") == []


async def test_duplicate_stream_is_refused_naming_the_existing_one(herald: Herald) -> None:
    first = await herald.manager.create("tweet", "alice", interval=60)
    with pytest.raises(StreamExists) as caught:
        await herald.manager.create("tweet", "@ALICE", interval=60)
    assert caught.value.stream_id == first["id"] and first["id"] in caught.value.detail
    other = await herald.manager.create("mention", "alice", interval=60)
    assert other["id"] != first["id"]
    await herald.manager.stop(first["id"])
    again = await herald.manager.create("tweet", "alice", interval=60)
    assert again["id"] != first["id"]


async def test_unknown_stream_id(herald: Herald) -> None:
    for call in (herald.manager.stop, herald.manager.pause, herald.manager.status):
        with pytest.raises(StreamNotFound):
            await call("nope")


async def test_stop_all_reports_counts(herald: Herald) -> None:
    for name in ("a1", "a2", "a3"):
        await herald.manager.create("tweet", name, interval=60)
    assert await herald.manager.stop_all() == {"stopped": 3, "failed": 0, "total": 3}
    assert await herald.manager.list_streams() == []


async def test_scheduler_polls_on_its_own(herald: Herald, source: MemorySource) -> None:
    source.post("erin", "old")
    stream = await herald.manager.create("tweet", "erin", interval=0.3)
    await wait_for(lambda: status_field(herald, stream["id"], "polls"), lambda v: v >= 1)
    source.post("erin", "fresh")
    await wait_for(lambda: event_types(herald, stream["id"]), lambda v: "stream:tweet:new" in v)
    assert (await herald.manager.stats())["polls"] >= 2


@BY_HAND
async def test_auto_stop_after_ten_errors_with_backoff(
    herald: Herald, source: MemorySource
) -> None:
    stream = await herald.manager.create("tweet", "frank", interval=60)
    source.fail_next(UpstreamError("X answered 503"), times=10)
    before = time.time()
    first = await herald.manager.poll_now(stream["id"])
    assert first["outcome"] == "error"
    status = await herald.manager.status(stream["id"])
    assert status["consecutiveErrors"] == 1 and status["lastErrorKind"] == "upstream_error"
    assert status["nextPoll"] is not None  # interval x 2^1 = 120 s
    next_poll = _epoch(status["nextPoll"])
    assert 119 <= next_poll - before <= 125
    for _ in range(9):
        await herald.manager.poll_now(stream["id"])
    final = await herald.manager.status(stream["id"])
    assert final["status"] == "error" and final["consecutiveErrors"] == 10
    assert "10 consecutive errors" in final["stopReason"]
    types = await event_types(herald, stream["id"])
    assert types.count("stream:error") == 10 and types[-1] == "stream:stopped"
    errors = await detected(herald, stream["id"], "stream:error")
    assert [e["consecutiveErrors"] for e in errors] == list(range(1, 11))
    assert all(e["error"] == "X answered 503" for e in errors)


@BY_HAND
async def test_rate_limit_waits_without_counting_an_error(
    herald: Herald, source: MemorySource
) -> None:
    stream = await herald.manager.create("tweet", "gina", interval=60)
    source.fail_next(RateLimited("budget spent", retry_after=300))
    result = await herald.manager.poll_now(stream["id"])
    assert result["outcome"] == "rate_limited"
    status = await herald.manager.status(stream["id"])
    assert status["consecutiveErrors"] == 0 and status["lastErrorKind"] == "rate_limited"
    assert 295 <= _epoch(status["nextPoll"]) - time.time() <= 301
    errors = await detected(herald, stream["id"], "stream:error")
    assert errors[0]["kind"] == "rate_limited" and errors[0]["consecutiveErrors"] == 0


async def test_pause_keeps_state_and_resume_does_not_rebaseline(
    herald: Herald, source: MemorySource
) -> None:
    for i in range(5):
        source.post("hank", f"old {i}")
    stream = await herald.manager.create("tweet", "hank", interval=0.3)
    await wait_for(lambda: status_field(herald, stream["id"], "polls"), lambda v: v >= 1)
    paused = await herald.manager.pause(stream["id"])
    assert paused["status"] == "paused"
    polls = await status_field(herald, stream["id"], "polls")
    # A stream on the same interval polls three times: the paused one had time to, and did not.
    control = await herald.manager.create("tweet", "hank_control", interval=0.3)
    await wait_for(lambda: status_field(herald, control["id"], "polls"), lambda v: v >= 3)
    assert await status_field(herald, stream["id"], "polls") == polls
    source.post("hank", "while paused")
    await herald.manager.resume(stream["id"])
    await wait_for(lambda: detected(herald, stream["id"]), lambda v: len(v) == 1)
    assert (await detected(herald, stream["id"]))[0]["tweet"]["text"] == "while paused"
    types = await event_types(herald, stream["id"])
    assert (
        types[:1] == ["stream:started"] and "stream:paused" in types and "stream:resumed" in types
    )


@BY_HAND
async def test_update_changes_the_very_next_schedule(herald: Herald) -> None:
    stream = await herald.manager.create("tweet", "ivan", interval=3600)
    await herald.manager.poll_now(stream["id"])
    updated = await herald.manager.update(stream["id"], interval=120)
    assert updated["interval"] == 120_000
    status = await herald.manager.status(stream["id"])
    planned = _epoch(status["scheduledFor"])
    last = _epoch(status["lastPoll"])
    assert 119 <= planned - last <= 121
    with pytest.raises(ValidationError):
        await herald.manager.update(stream["id"], username="other")


async def status_field(herald: Herald, stream_id: str, name: str) -> Any:
    return (await herald.manager.status(stream_id))[name]


async def wait_for(probe: Any, done: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met in {timeout}s; last value: {value!r}")
        await asyncio.sleep(0.05)


def _epoch(iso_text: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso_text.replace("Z", "+00:00")).timestamp()


async def test_shutdown_lets_the_poll_in_flight_finish(
    herald: Herald, source: MemorySource
) -> None:
    source.delay = 1.0
    stream = await herald.manager.create("tweet", "olga", interval=60)
    await wait_for(lambda: _fetches(source), lambda n: n >= 1)  # the baseline poll is running
    await herald.stop()
    async with Herald(
        herald.settings, sources=[MemorySource()], worker=False, delivery=False
    ) as again:
        status = await again.manager.status(stream["id"])
        assert status["polls"] == 1 and status["lastPoll"] is not None
        assert await again.redis.exists(again.keys.lock(stream["id"])) == 0


async def _fetches(source: MemorySource) -> int:
    return source.fetches

"""The push runtime in one process on real Redis: items arrive once, in order, from the
saved cursor after a restart; gaps, frame errors, failed connects and the error rule are
reported as for polled streams; a stream gets nothing from before it (re)joined."""

from __future__ import annotations

import time

from herald.config import Settings
from herald.push.base import ConnectionPlan
from herald.push.memory import MemoryFeed, MemoryPushSource
from herald.push.wsconn import PushConnectionError
from herald.service import Herald
from tests.platforms.feed import TYPE
from tests.push.support import (
    history,
    messages,
    of_type,
    start,
    wait_connected,
    wait_joined,
    wait_messages,
)
from tests.waiting import wait_until


async def test_items_arrive_once_in_order(herald: Herald, feed: MemoryFeed) -> None:
    sid = await start(herald, "news")
    await wait_connected(herald)
    for i in range(50):
        feed.publish("news", f"n{i}")
        feed.publish("sport", f"s{i}")
    await wait_messages(herald, sid, 50)
    assert await messages(herald, sid) == [f"n{i}" for i in range(50)]
    events = await of_type(herald, sid, "stream:message:new")
    assert len({e["eventId"] for e in events}) == 50
    assert all(e["platform"] == "feed" and e["target"] == "news" for e in events)


async def test_cursor_is_saved_with_the_events_and_a_restart_resumes_from_it(
    settings: Settings, feed: MemoryFeed
) -> None:
    first = MemoryPushSource(feed, stream_types=(TYPE,))
    async with Herald(settings, sources=[first], delivery=False) as herald:
        sid = await start(herald, "news")
        await wait_connected(herald)
        for i in range(20):
            feed.publish("news", f"a{i}")
        await wait_messages(herald, sid, 20)
        key = "memory:main"
        assert await herald.push_store.cursor(key) == str(feed.last_seq)
    for i in range(20):  # while nobody holds the connection
        feed.publish("news", f"b{i}")
    second = MemoryPushSource(feed, stream_types=(TYPE,))
    async with Herald(settings, sources=[second], delivery=False) as herald:
        await wait_messages(herald, sid, 40)
        assert second.cursors[0] == "20", "resumed from the saved cursor"
        feed.publish("news", "c0")
        await wait_messages(herald, sid, 41)
        got = await messages(herald, sid)
    assert got == [f"a{i}" for i in range(20)] + [f"b{i}" for i in range(20)] + ["c0"]


async def test_inclusive_replay_appends_nothing_twice(
    herald: Herald, source: MemoryPushSource
) -> None:
    """An upstream that replays from the cursor inclusive (Jetstream) after every drop."""
    sid = await start(herald, "news")
    await wait_connected(herald)
    for round_ in range(5):
        for i in range(10):
            source.feed.publish("news", f"r{round_}.{i}")
        await wait_messages(herald, sid, 10 * (round_ + 1))
        source.drop()
    await wait_until(lambda: source.connects >= 6, timeout=15, what="reconnects")
    source.feed.publish("news", "last")
    await wait_messages(herald, sid, 51)
    got = await messages(herald, sid)
    assert len(got) == len(set(got)) == 51


async def test_a_stream_gets_nothing_from_before_it_joined(
    herald: Herald, feed: MemoryFeed
) -> None:
    early = await start(herald, "*")
    await wait_connected(herald)
    before = time.time()  # after `early` started, before `late` did
    late = await start(herald, "news", connection="main")
    await wait_joined(herald, late)
    feed.publish("news", "old", at=before)  # the upstream's time says: before `late` started
    feed.publish("news", "new")
    await wait_messages(herald, early, 2)
    await wait_messages(herald, late, 1)
    assert await messages(herald, late) == ["new"]
    assert await messages(herald, early) == ["old", "new"]


async def test_a_cursor_the_upstream_no_longer_keeps_is_a_gap(settings: Settings) -> None:
    feed = MemoryFeed(keep=10)
    async with Herald(
        settings, sources=[MemoryPushSource(feed, stream_types=(TYPE,))], delivery=False
    ) as herald:
        sid = await start(herald, "news")
        await wait_connected(herald)
        feed.publish("news", "first")
        await wait_messages(herald, sid, 1)
    for i in range(30):
        feed.publish("news", f"m{i}")
    async with Herald(
        settings, sources=[MemoryPushSource(feed, stream_types=(TYPE,))], delivery=False
    ) as herald:
        await wait_messages(herald, sid, 11)
        gaps = await of_type(herald, sid, "stream:gap")
        assert len(gaps) == 1
        assert gaps[0]["missed"] == 20 and "sequence jump" in gaps[0]["reason"]
        assert await messages(herald, sid) == ["first"] + [f"m{i}" for i in range(20, 30)]
        kinds = [e["type"] for e in await history(herald, sid)]
        assert kinds.index("stream:gap") < len(kinds) - 10, "the gap comes before what follows"


async def test_failed_connects_back_off_with_errors_then_recover(
    herald: Herald, source: MemoryPushSource
) -> None:
    source.fail_connects(PushConnectionError("unreachable", "connection refused"), times=3)
    sid = await start(herald, "news")
    runner = await wait_connected(herald)
    errors = await of_type(herald, sid, "stream:error")
    assert [e["consecutiveErrors"] for e in errors] == [1, 2, 3]
    assert {e["kind"] for e in errors} == {"unreachable"}
    assert all(e.get("retryAt") for e in errors)
    assert len({e["eventId"] for e in errors}) == 3
    source.feed.publish("news", "after")
    await wait_messages(herald, sid, 1)
    status = await herald.manager.status(sid)
    assert status["consecutiveErrors"] == 0 and status["status"] == "active"
    assert runner.failures == 0


async def test_the_error_rule_stops_the_streams_of_a_failing_connection(
    settings: Settings, source: MemoryPushSource
) -> None:
    settings = settings.model_copy(update={"max_errors": 3})
    source.fail_connects(PushConnectionError("refused", "the upstream answered HTTP 403"), 10)
    async with Herald(settings, sources=[source], delivery=False) as herald:
        sid = await start(herald, "news")

        async def stopped() -> bool:
            return (await herald.manager.status(sid))["status"] == "error"

        await wait_until(stopped, timeout=15, what="auto-stop")
        kinds = [e["type"] for e in await history(herald, sid)]
        assert kinds[-2:] == ["stream:error", "stream:stopped"]
        status = await herald.manager.status(sid)
        assert "3 consecutive errors" in status["stopReason"]
        assert herald.push is not None
        await wait_until(lambda: not herald.push.runners, timeout=10, what="connection closed")


async def test_bad_frames_are_errors_that_stop_nothing(herald: Herald, feed: MemoryFeed) -> None:
    sid = await start(herald, "news")
    await wait_connected(herald)
    feed.publish_raw(b"this is no JSON")
    feed.publish("news", "fine")
    await wait_messages(herald, sid, 1)
    errors = await of_type(herald, sid, "stream:error")
    assert len(errors) == 1 and errors[0]["kind"] == "bad_frame"
    assert errors[0]["consecutiveErrors"] == 0
    assert (await herald.manager.status(sid))["status"] == "active"


async def test_oversized_frames_are_refused_by_the_plan(
    herald: Herald, source: MemoryPushSource
) -> None:
    source.connection_plan = ConnectionPlan(idle_timeout=3600, max_frame_bytes=200)
    sid = await start(herald, "news")
    await wait_connected(herald)
    source.feed.publish("news", "x" * 500)
    source.feed.publish("news", "small")
    await wait_messages(herald, sid, 1)
    assert await messages(herald, sid) == ["small"]
    errors = await of_type(herald, sid, "stream:error")
    assert [e["kind"] for e in errors] == ["too_large"]


async def test_rotation_before_the_lifetime_cap_loses_nothing(
    herald: Herald, source: MemoryPushSource
) -> None:
    source.connection_plan = ConnectionPlan(max_lifetime=0.3, idle_timeout=3600)
    sid = await start(herald, "news")
    await wait_connected(herald)
    for i in range(40):
        source.feed.publish("news", f"m{i}")
        if i % 10 == 9:
            await wait_until(lambda n=source.connects: source.connects > n, timeout=10)
    await wait_messages(herald, sid, 40)
    assert await messages(herald, sid) == [f"m{i}" for i in range(40)]
    assert source.connects >= 5
    assert not await of_type(herald, sid, "stream:error"), "a planned rotation is no error"


async def test_silence_past_the_idle_timeout_reopens(
    herald: Herald, source: MemoryPushSource
) -> None:
    source.connection_plan = ConnectionPlan(idle_timeout=0.3)
    sid = await start(herald, "news")
    await wait_connected(herald)
    source.stall()
    await wait_until(lambda: source.connects >= 3, timeout=10, what="reopened after silence")
    source.stall(False)
    source.feed.publish("news", "again")
    await wait_messages(herald, sid, 1)
    assert herald.push is not None
    status = (await herald.manager.status(sid))["connection"]
    assert status["reconnects"] >= 1

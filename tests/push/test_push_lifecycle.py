"""Push streams through the lifecycle: no poll jobs, pause/resume/update/stop change the
connection's stream set, poll-now is refused, status shows the connection."""

from __future__ import annotations

import pytest

from herald.errors import HeraldError
from herald.push.memory import MemoryPushSource
from herald.service import Herald
from tests.push.support import (
    messages,
    of_type,
    start,
    wait_connected,
    wait_joined,
    wait_messages,
)
from tests.waiting import wait_until


async def test_push_streams_have_no_poll_job(herald: Herald) -> None:
    sid = await start(herald, "news")
    assert (await herald.scheduler.pending([sid]))[sid] is False
    assert herald.worker is not None
    assert await herald.worker.reconcile() == 0, "the reconciler leaves push streams alone"
    assert (await herald.scheduler.pending([sid]))[sid] is False
    body = await herald.manager.status(sid)
    assert body["mode"] == "push" and body["nextPoll"] is None and body["scheduledFor"] is None
    assert await herald.manager.overdue(0) == []


async def test_poll_now_is_a_clear_409(herald: Herald) -> None:
    sid = await start(herald, "news")
    with pytest.raises(HeraldError) as caught:
        await herald.manager.poll_now(sid)
    assert caught.value.status == 409
    assert "pushed" in caught.value.detail and "nothing to poll" in caught.value.detail


async def test_status_shows_the_connection(herald: Herald, source: MemoryPushSource) -> None:
    sid = await start(herald, "news")
    await wait_connected(herald)
    source.feed.publish("news", "one")
    await wait_messages(herald, sid, 1)
    assert herald.push is not None

    async def written() -> bool:
        conn = (await herald.manager.status(sid))["connection"]
        return bool(conn["connected"] and conn["lastMessageAt"])

    await wait_until(written, timeout=10, what="connection status written")
    conn = (await herald.manager.status(sid))["connection"]
    assert conn["key"] == "memory:main"
    assert conn["owner"] == herald.push.worker_id
    assert conn["reconnects"] == 0
    assert conn["lagSeconds"] >= 0 and conn["eventsPerSecond"] >= 0
    assert set(conn) >= {"key", "connected", "owner", "lagSeconds", "eventsPerSecond"}


async def test_pause_leaves_and_resume_rejoins_without_the_paused_time(
    herald: Herald, source: MemoryPushSource
) -> None:
    feed = source.feed
    keep = await start(herald, "*")
    sid = await start(herald, "news")
    await wait_joined(herald, sid)
    feed.publish("news", "before")
    await wait_messages(herald, sid, 1)
    await herald.manager.pause(sid)
    assert herald.push is not None
    await wait_until(
        lambda: all(sid not in {s.id for s in r.streams} for r in herald.push.runners.values()),  # type: ignore[union-attr]
        timeout=10,
        what="paused stream left",
    )
    feed.publish("news", "while paused")
    await wait_messages(herald, keep, 2)
    await herald.manager.resume(sid)
    await wait_joined(herald, sid)
    feed.publish("news", "after")
    await wait_messages(herald, sid, 2)
    await wait_messages(herald, keep, 3)
    assert await messages(herald, sid) == ["before", "after"]
    kinds = [e["type"] for e in await of_type(herald, sid, "stream:paused")]
    assert kinds == ["stream:paused"]
    assert source.connects == 1, "the set changed in place: no reconnect"
    assert source.updates >= 2, "pause and resume each updated the set"


async def test_a_set_change_reconnects_when_the_upstream_cannot_update_in_place(
    herald: Herald, source: MemoryPushSource
) -> None:
    source.update_in_place = False
    a = await start(herald, "a")
    await wait_joined(herald, a)
    b = await start(herald, "b")
    await wait_joined(herald, b)
    assert source.connects >= 2
    source.feed.publish("a", "for a")
    source.feed.publish("b", "for b")
    await wait_messages(herald, a, 1)
    await wait_messages(herald, b, 1)
    assert await messages(herald, a) == ["for a"] and await messages(herald, b) == ["for b"]


async def test_stopping_the_last_stream_closes_the_connection(
    herald: Herald, source: MemoryPushSource
) -> None:
    sid = await start(herald, "news")
    await wait_connected(herald)
    result = await herald.manager.stop(sid)
    assert result == {"success": True, "streamId": sid}
    assert herald.push is not None
    await wait_until(lambda: not herald.push.runners, timeout=10, what="connection closed")  # type: ignore[union-attr]
    assert not source.connections
    assert await herald.push_store.owner("memory:main") is None, "the lease was released"
    assert sid not in await herald.push_store.members()


async def test_update_options_moves_a_stream_to_another_connection(
    herald: Herald, source: MemoryPushSource
) -> None:
    sid = await start(herald, "news")
    await wait_joined(herald, sid)
    await herald.manager.update(sid, options={"connection": "other"})
    assert herald.push is not None
    await wait_until(
        lambda: set(herald.push.runners) == {"memory:other"},  # type: ignore[union-attr]
        timeout=10,
        what="moved to memory:other",
    )
    await wait_joined(herald, sid)
    source.feed.publish("news", "there")
    await wait_messages(herald, sid, 1)
    assert [e["changed"] for e in await of_type(herald, sid, "stream:updated")] == [["options"]]

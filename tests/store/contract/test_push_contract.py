"""The PushStore contract, on the twin, the embedded Valkey and Redis 7: the lease, the
batch append that saves the cursor with the events (all or nothing, once per eventId,
only for active streams, only by the lease holder), status and the index's version."""

from __future__ import annotations

import asyncio

from backends import Backend, push_on, set_stream_status

from herald.events import Event, EventType
from tests.waiting import wait_until

CONN = "memory:main"
LONG = 60_000


def _event(stream_id: str, object_id: str) -> Event:
    return Event(
        EventType.MESSAGE_NEW,
        stream_id,
        "news",
        object_id,
        {"message": {"id": object_id}},
        platform="feed",
    )


async def test_one_lease_holder_renewal_and_release(backend: Backend) -> None:
    store = push_on(backend)
    won = await asyncio.gather(*(store.take(CONN, f"t{i}", LONG) for i in range(10)))
    assert sum(won) == 1
    holder = await store.owner(CONN)
    assert holder is not None
    assert not await store.renew(CONN, "someone-else", LONG)
    assert await store.renew(CONN, holder, LONG)
    assert not await store.release(CONN, "someone-else")
    assert await store.owner(CONN) == holder
    assert await store.release(CONN, holder)
    assert await store.owner(CONN) is None
    assert await store.take(CONN, "next", LONG)


async def test_a_lapsed_lease_cannot_be_renewed_by_its_old_holder(backend: Backend) -> None:
    store = push_on(backend)
    assert await store.take(CONN, "old", 50)
    await wait_until(lambda: store.take(CONN, "new", LONG), timeout=5, what="lease expiry")
    assert not await store.renew(CONN, "old", LONG)
    assert not await store.release(CONN, "old")
    assert await store.owner(CONN) == "new"


async def test_append_saves_the_cursor_with_the_events_once(backend: Backend) -> None:
    store = push_on(backend)
    assert await store.take(CONN, "tok", LONG)
    for sid in ("s1", "s2"):
        await set_stream_status(backend, store, sid, "active")
    batch = {"s1": [_event("s1", "1"), _event("s1", "2")], "s2": [_event("s2", "1")]}
    result = await store.append(CONN, "tok", batch, "2")
    assert result is not None
    assert [eid for eid, _ in result.appended] == ["message:1@s1", "message:2@s1", "message:1@s2"]
    assert result.skipped == []
    assert await store.cursor(CONN) == "2"
    again = await store.append(CONN, "tok", batch, "3")  # an inclusive replay of the batch
    assert again is not None and again.appended == []
    assert await store.cursor(CONN) == "3"
    unchanged = await store.append(CONN, "tok", {}, None)
    assert unchanged is not None and await store.cursor(CONN) == "3"


async def test_append_without_the_lease_writes_nothing(backend: Backend) -> None:
    store = push_on(backend)
    await set_stream_status(backend, store, "s1", "active")
    assert await store.append(CONN, "nobody", {"s1": [_event("s1", "1")]}, "1") is None
    assert await store.take(CONN, "owner", LONG)
    assert await store.append(CONN, "stale", {"s1": [_event("s1", "1")]}, "1") is None
    assert await store.cursor(CONN) is None
    result = await store.append(CONN, "owner", {"s1": [_event("s1", "1")]}, "1")
    assert result is not None and len(result.appended) == 1, "the refused event was not kept"


async def test_append_skips_streams_no_longer_active(backend: Backend) -> None:
    store = push_on(backend)
    assert await store.take(CONN, "tok", LONG)
    await set_stream_status(backend, store, "on", "active")
    await set_stream_status(backend, store, "off", "paused")
    batch = {"on": [_event("on", "1")], "off": [_event("off", "1")]}
    result = await store.append(CONN, "tok", batch, "1")
    assert result is not None
    assert [eid for eid, _ in result.appended] == ["message:1@on"]
    assert result.skipped == ["off"]
    assert await store.cursor(CONN) == "1", "the cursor moves past what a paused stream missed"


async def test_status_and_the_version_of_the_index(backend: Backend) -> None:
    store = push_on(backend)
    await store.set_status(CONN, {"owner": "w1", "connected": "1", "reconnects": 2}, LONG)
    await store.set_status(CONN, {"connected": "0"}, LONG)
    assert await store.status(CONN) == {"owner": "w1", "connected": "0", "reconnects": "2"}
    assert await store.status("other") == {}
    v0 = await store.version()
    await store.join("s1", 100.5)
    await store.join("s2", 200.0)
    assert await store.members() == {"s1": 100.5, "s2": 200.0}
    await store.join("s1", 300.0)  # a resume: joins again from now
    await store.leave("s2")
    assert await store.members() == {"s1": 300.0}
    v1 = await store.version()
    assert v1 == v0 + 4
    assert await store.bump() == v1 + 1


async def test_status_expires_with_its_ttl(backend: Backend) -> None:
    store = push_on(backend)
    await store.set_status(CONN, {"owner": "w1"}, 50)

    async def gone() -> bool:
        return await store.status(CONN) == {}

    await wait_until(gone, timeout=5, what="status expiry")


async def test_redis_append_keeps_the_event_logs_rules(redis_backend: Backend) -> None:
    """The script writes the global log, the history and the counts as eventlog's does."""
    store = push_on(redis_backend, ttl=500)
    keys, client = redis_backend.keys, redis_backend.client
    assert await store.take(CONN, "tok", LONG)
    await set_stream_status(redis_backend, store, "s1", "active")
    result = await store.append(CONN, "tok", {"s1": [_event("s1", "1"), _event("s1", "2")]}, "9")
    assert result is not None and len(result.appended) == 2
    assert await client.xlen(keys.events) == 2
    assert await client.xlen(keys.history("s1")) == 2
    assert await client.hget(keys.state("s1"), "events:stream:message:new") == b"2"
    assert 0 < await client.ttl(keys.push_cursor(CONN)) <= 500
    assert 0 < await client.ttl(keys.history("s1")) <= 500
    entries = await client.xrange(keys.events)
    assert [e[1][b"s"] for e in entries] == [b"s1", b"s1"]
    assert [off for _, off in result.appended] == [e[0].decode() for e in entries]

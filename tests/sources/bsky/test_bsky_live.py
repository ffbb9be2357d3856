"""The source against a live stand-in: the subscription it asks for, options_update in
place, resume from a cursor, a lost cursor as a gap, faults, handles and profiles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from herald.events import EventType
from herald.push.base import Decoded, Frame, PushStream
from herald.push.wsconn import PushConnectionError
from herald.sources.bsky import BskySource
from herald.sources.bsky import source as source_module
from herald.sources.bsky.connection import JetstreamConnection
from herald.store.memory import MemoryBskyStore
from herald.testing.fakesky import records
from tests.sources.bsky.support import DID_A, DID_B, source_for, stream
from tests.testing.fakesky_support import FakeSkyClient, fakesky
from tests.waiting import wait_until

POST = records.POST


@pytest.fixture
async def sky() -> AsyncIterator[FakeSkyClient]:
    async with fakesky() as client:
        yield client


def live_source(sky: FakeSkyClient, store: MemoryBskyStore | None = None) -> BskySource:
    return source_for(api_url=sky.url, jetstream_url=sky.ws_url, store=store)


async def read_until(conn: JetstreamConnection, time_us: int, limit: int = 10_000) -> list[Frame]:
    """Frames off the connection until one at ``time_us`` or later (garbage included)."""
    out: list[Frame] = []
    while len(out) < limit:
        frame = await asyncio.wait_for(conn.recv(), 10)
        out.append(frame)
        if frame.data[:1] in ("{", b"{") and f'"time_us":{time_us}' in str(frame.data):
            return out
    raise AssertionError("the frame never came")


async def subscribers(sky: FakeSkyClient) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await sky.control("GET", "/requests"))["subscribers"]
    return found


async def decode(
    source: BskySource, frames: Sequence[Frame], streams: Sequence[PushStream], cursor: str | None
) -> Decoded:
    return await source.decode("bsky", frames, streams, cursor)


async def test_post_streams_ask_for_their_dids_only(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", "alice.test")]
    conn = await source.connect("bsky", streams, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        [sub] = await subscribers(sky)
        assert sub["wantedDids"] == [DID_A] and sub["wantedCollections"] == [POST]
        await sky.control("POST", "/users/bob.test/posts", text="not wanted")
        sent = await sky.control("POST", "/users/alice.test/posts", text="wanted")
        frames = await read_until(conn, sent["time_us"])
        assert len(frames) == 1, "Jetstream filtered bob's post out"
        out = await decode(source, frames, streams, None)
        assert [c.payload["post"]["text"] for c in out.changes] == ["wanted"]
        assert out.changes[0].payload["post"]["author"] == "alice.test"
        assert out.changes[0].payload["post"]["authorName"] == "Alice"
    finally:
        await conn.aclose()
        await source.aclose()


async def _connected(sky: FakeSkyClient) -> bool:
    return bool(await subscribers(sky))


async def test_update_changes_the_filter_without_reconnecting(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    posts = [stream("p", "bsky:post", DID_A)]
    conn = await source.connect("bsky", posts, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        more = [*posts, stream("f", "bsky:follower", DID_A), stream("q", "bsky:search", "hi")]
        assert await conn.update(more) is True
        await wait_until(lambda: _updated(sky), timeout=10, what="options_update applied")
        [sub] = await subscribers(sky)
        assert sub["wantedDids"] == [] and sub["wantedCollections"] == [
            "app.bsky.feed.post",
            "app.bsky.graph.follow",
        ]
        follow = await sky.control("POST", "/users/alice.test/followers", follower="bob.test")
        frames = await read_until(conn, follow["time_us"])
        out = await decode(source, frames, more, None)
        assert [c.type for c in out.changes] == [EventType.FOLLOWER_NEW]
        assert await conn.update(more) is True  # the same set: nothing sent
        counts = await sky.control("GET", "/requests")
        assert counts["subscribe"] == 1 and counts["optionsUpdate"] == 1
    finally:
        await conn.aclose()
        await source.aclose()


async def _updated(sky: FakeSkyClient) -> bool:
    return bool((await sky.control("GET", "/requests")).get("optionsUpdate"))


async def test_resume_replays_inclusively_and_nothing_twice(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", DID_A)]
    first = await sky.control("POST", "/users/alice.test/posts", text="one")
    second = await sky.control("POST", "/users/alice.test/posts", text="two")
    conn = await source.connect("bsky", streams, str(first["time_us"]))
    try:
        frames = await read_until(conn, second["time_us"])
        assert str(frames[0].data).find(str(first["time_us"])) > 0, "inclusive"
        out = await decode(source, frames, streams, str(first["time_us"]))
        assert [c.payload["post"]["text"] for c in out.changes] == ["two"]
        assert out.gaps == [] and out.cursor == str(second["time_us"])
    finally:
        await conn.aclose()
        await source.aclose()


async def test_a_cursor_upstream_forgot_is_a_gap(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", DID_A)]
    first = await sky.control("POST", "/users/alice.test/posts", text="one")
    await sky.control("POST", "/users/alice.test/posts", text="lost")
    third = await sky.control("POST", "/users/alice.test/posts", text="three")
    await sky.control("POST", "/faults", mode="old_cursor", keep=1)
    conn = await source.connect("bsky", streams, str(first["time_us"]))
    try:
        frames = await read_until(conn, third["time_us"])
        out = await decode(source, frames, streams, str(first["time_us"]))
        [(stream_id, gap)] = out.gaps
        assert stream_id is None and gap.reason.startswith("cursor_too_old")
        assert [c.payload["post"]["text"] for c in out.changes] == ["three"]
        later = await decode(source, [], streams, out.cursor)
        assert later.gaps == [], "said once"
    finally:
        await conn.aclose()
        await source.aclose()


async def test_garbage_is_a_frame_error_and_frames_go_on(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", DID_A)]
    conn = await source.connect("bsky", streams, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        await sky.control("POST", "/faults", mode="garbage", count=1, text="<html>oops")
        sent = await sky.control("POST", "/users/alice.test/posts", text="after")
        frames = await read_until(conn, sent["time_us"])
        out = await decode(source, frames, streams, None)
        assert [e.kind for e in out.errors] == ["bad_frame"]
        assert [c.payload["post"]["text"] for c in out.changes] == ["after"]
    finally:
        await conn.aclose()
        await source.aclose()


async def test_drop_and_refusal_are_connection_errors(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", DID_A)]
    conn = await source.connect("bsky", streams, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        await sky.control("POST", "/faults", mode="drop")
        with pytest.raises(PushConnectionError) as dropped:
            await asyncio.wait_for(conn.recv(), 10)
        assert dropped.value.kind == "closed"
    finally:
        await conn.aclose()
    await sky.control("POST", "/faults", mode="refuse", status=503)
    with pytest.raises(PushConnectionError) as refused:
        await source.connect("bsky", streams, None)
    assert refused.value.kind == "refused"
    await source.aclose()


async def test_handles_resolve_once_for_every_worker(sky: FakeSkyClient) -> None:
    store = MemoryBskyStore()
    streams = [stream("p", "bsky:post", "alice.test"), stream("m", "bsky:mention", "bob.test")]
    first, second = live_source(sky, store), live_source(sky, store)
    try:
        assert (await first.subscription(streams)).collections == (POST,)
        index = await second.index_for(streams)
        assert index.dids == {"p": DID_A, "m": DID_B}
        counts = await sky.control("GET", "/requests")
        assert counts["resolveHandle"] == 2, "the second worker read the shared cache"
    finally:
        await first.aclose()
        await second.aclose()


async def test_an_unknown_handle_is_an_error_of_its_stream(
    sky: FakeSkyClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", "nobody.test"), stream("q", "bsky:post", DID_A)]
    try:
        out = await decode(source, [], streams, None)
        [error] = out.errors
        assert error.kind == "unresolved" and error.stream_id == "p"
        assert "nobody.test" in error.message
        assert (await decode(source, [], streams, None)).errors == [], "said once per try"
        await sky.user("nobody.test")
        monkeypatch.setattr(source_module, "RESOLVE_RETRY", 0.0)
        source._retry_at = 0.0  # the retry is due
        index = await source.index_for(streams)
        assert index.unresolved == {} and "p" in index.dids
    finally:
        await source.aclose()


async def test_identity_frames_move_a_handle_stream(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("p", "bsky:post", "alice.test")]
    conn = await source.connect("bsky", streams, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        renamed = await sky.control("PUT", "/users/alice.test/handle", handle="alice2.test")
        moved = await sky.control("PUT", "/users/bob.test/handle", handle="alice.test")
        assert moved["did"] == DID_B
        # only alice's identity frame comes (the filter names her DID): it is enough
        await decode(source, await read_until(conn, renamed["time_us"]), streams, None)
        await wait_until(lambda: _wants(sky, DID_B), timeout=10, what="the filter followed")
        sent = await sky.control("POST", "/users/alice.test/posts", text="bob as alice")
        frames = await read_until(conn, sent["time_us"])
        out = await decode(source, frames, streams, None)
        assert [(c.payload["post"]["authorId"]) for c in out.changes] == [DID_B]
    finally:
        await conn.aclose()
        await source.aclose()


async def _wants(sky: FakeSkyClient, did: str) -> bool:
    subs = await subscribers(sky)
    return bool(subs) and subs[0]["wantedDids"] == [did]


async def test_authors_by_did_when_profiles_fail(sky: FakeSkyClient) -> None:
    source = live_source(sky)
    streams = [stream("q", "bsky:search", "hello")]
    conn = await source.connect("bsky", streams, None)
    try:
        await wait_until(lambda: _connected(sky), timeout=10, what="subscribed")
        await sky.control("POST", "/faults", mode="xrpc_status", status=500, method="getProfiles")
        sent = await sky.control("POST", "/users/bob.test/posts", text="hello world")
        out = await decode(source, await read_until(conn, sent["time_us"]), streams, None)
        [change] = out.changes
        assert change.payload["post"]["author"] == DID_B
        assert change.payload["post"]["authorName"] == ""
    finally:
        await conn.aclose()
        await source.aclose()


async def test_a_fresh_connection_starts_at_its_streams_creation(sky: FakeSkyClient) -> None:
    """What happened between a stream's start and its connection is not lost, and what
    happened before the start is not a flood."""
    source = live_source(sky)
    before = await sky.control("POST", "/users/alice.test/posts", text="before")
    created = (before["time_us"] + 1) / 1_000_000
    await sky.control("POST", "/users/alice.test/posts", text="between")
    streams = [stream("p", "bsky:post", DID_A, created_at=created)]
    conn = await source.connect("bsky", streams, None)
    try:
        after = await sky.control("POST", "/users/alice.test/posts", text="after")
        out = await decode(source, await read_until(conn, after["time_us"]), streams, None)
        assert [c.payload["post"]["text"] for c in out.changes] == ["between", "after"]
        assert out.gaps == []
        [sub] = await subscribers(sky)
        assert sub["cursor"] == int(created * 1_000_000)
    finally:
        await conn.aclose()
    old = [stream("p", "bsky:post", DID_A, created_at=created - 2 * 86_400)]
    conn = await source.connect("bsky", old, None)
    try:
        # older than a day: live (the first connection may still be leaving)
        await wait_until(lambda: _cursors(sky, [None]), timeout=10, what="a live subscription")
    finally:
        await conn.aclose()
        await source.aclose()


async def _cursors(sky: FakeSkyClient, expected: list[int | None]) -> bool:
    return [s["cursor"] for s in await subscribers(sky)] == expected

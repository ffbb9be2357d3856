"""Decoding Jetstream frames: every recorded frame kind, inclusive-replay dedup, no flood,
bad frames as frame errors, and exactly the hits each stream type asks for."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from herald.events import EventType
from herald.testing.fakesky import create_app, records
from tests.sources.bsky.support import (
    DID_A,
    DID_B,
    DID_C,
    decode,
    follow,
    mention_facets,
    post,
    source_for,
    stream,
)
from tests.testing.fakesky_support import recorded_frames

POSTER = "did:plc:q235v55g5unth4zjjdpacfdr"  # the recording's one post
FOLLOWED = "did:plc:anc6s2kher6ltrhhglxrzxsa"  # the subject of its one follow
FOLLOWER = "did:plc:mxwlsvdgs6tn75lq6jrr2vp7"


@pytest.fixture
def app() -> FastAPI:
    return create_app()


def _recorded() -> list[dict[str, Any]]:
    return sorted(recorded_frames(), key=lambda f: f["time_us"])


async def test_recorded_post_becomes_one_post_event(app: FastAPI) -> None:
    source = source_for(app)
    frames = _recorded()
    out = await decode(source, frames, [stream("s1", "bsky:post", POSTER)])
    assert out.errors == [] and out.gaps == []
    [change] = out.changes
    recorded = next(f for f in frames if f["did"] == POSTER)
    rkey = recorded["commit"]["rkey"]
    assert change.type is EventType.POST_NEW and change.stream_id == "s1"
    assert change.object_id == f"{POSTER}/{rkey}"
    assert change.payload == {
        "post": {
            "id": f"at://{POSTER}/app.bsky.feed.post/{rkey}",
            "text": "Try RSV for a good time !!",
            "author": POSTER,  # the stand-in has no profile for a recorded DID
            "authorName": "",
            "timestamp": "2026-05-25T14:23:28.757Z",
            "url": f"https://bsky.app/profile/{POSTER}/post/{rkey}",
            "authorId": POSTER,
            "isReply": True,
            "lang": "en",
        }
    }
    assert out.cursor == str(frames[-1]["time_us"])
    assert out.upstream_time == frames[-1]["time_us"] / 1_000_000


async def test_recorded_follow_becomes_a_follower_and_is_mapped(app: FastAPI) -> None:
    source = source_for(app)
    out = await decode(source, _recorded(), [stream("f1", "bsky:follower", FOLLOWED)])
    [change] = out.changes
    recorded = next(f for f in recorded_frames() if f["did"] == FOLLOWER)
    assert change.type is EventType.FOLLOWER_NEW
    assert change.object_id == f"{FOLLOWER}/{recorded['commit']['rkey']}"
    assert change.payload == {"follower": {"id": FOLLOWER, "username": FOLLOWER, "name": ""}}
    subjects = await source.store.follow_subjects([(FOLLOWER, recorded["commit"]["rkey"])])
    assert subjects == [FOLLOWED], "the map is written in the decode, before the append"


async def test_other_recorded_kinds_yield_nothing(app: FastAPI) -> None:
    """Likes, reposts, blocks, profile updates, other apps' records, deletes of them,
    identity and account frames: nothing for any type, and no error."""
    source = source_for(app)
    others = [f for f in _recorded() if f["did"] not in (POSTER, FOLLOWER)]
    assert {f["kind"] for f in others} == {"commit", "identity", "account"}
    every_did = {f["did"] for f in others}
    streams = [
        stream(f"{t}-{i}", t, did)
        for i, did in enumerate(sorted(every_did))
        for t in ("bsky:post", "bsky:mention", "bsky:follower")
    ] + [stream("q", "bsky:search", "e")]
    out = await decode(source, others, streams)
    assert [c for c in out.changes if c.type is not EventType.POST_NEW] == []
    assert out.changes == [] and out.errors == []
    assert out.cursor == str(others[-1]["time_us"])


async def test_replay_is_dropped_inclusively(app: FastAPI) -> None:
    source = source_for(app)
    frames = _recorded()
    streams = [stream("s1", "bsky:post", POSTER), stream("f1", "bsky:follower", FOLLOWED)]
    first = await decode(source, frames, streams)
    assert len(first.changes) == 2
    again = await decode(source, frames, streams, cursor=first.cursor)
    assert again.changes == [] and again.cursor is None, "the cursor covers every frame"
    poster = next(f for f in frames if f["did"] == POSTER)
    at_post = await decode(source, frames, streams, cursor=str(poster["time_us"]))
    assert all(c.stream_id != "s1" for c in at_post.changes), "inclusive: its own frame too"
    before = await decode(source, frames, streams, cursor=str(poster["time_us"] - 1))
    assert [c.stream_id for c in before.changes if c.stream_id == "s1"] == ["s1"]


async def test_a_new_stream_starts_at_now(app: FastAPI) -> None:
    source = source_for(app)
    frames = _recorded()
    poster = next(f for f in frames if f["did"] == POSTER)
    created = poster["time_us"] / 1_000_000
    late = [stream("s1", "bsky:post", POSTER, created_at=created + 0.001)]
    assert (await decode(source, frames, late)).changes == []
    on_time = [stream("s1", "bsky:post", POSTER, created_at=created)]
    assert len((await decode(source, frames, on_time)).changes) == 1


async def test_bad_frames_are_frame_errors_and_the_rest_decodes(app: FastAPI) -> None:
    source = source_for(app)
    good = post(DID_A, 2_000, "fine")
    bad: list[Any] = [
        "not json {",
        b"\xff\xfe",
        "[1, 2]",
        {"kind": "commit", "did": DID_A},
        {"time_us": 1_001, "did": DID_A, "kind": "commit"},
        {"time_us": 1_002, "did": DID_A, "kind": "commit", "commit": {"collection": records.POST}},
        {
            "time_us": 1_003,
            "did": DID_A,
            "kind": "commit",
            "commit": {"collection": records.POST, "operation": "create", "rkey": "r"},
        },
        {"time_us": 1_004, "did": DID_A, "kind": "something-new"},
    ]
    out = await decode(source, [*bad, good], [stream("s1", "bsky:post", DID_A)])
    assert [e.kind for e in out.errors] == ["bad_frame"] * 7
    assert all(e.stream_id is None for e in out.errors)
    assert [c.object_id for c in out.changes] == [f"{DID_A}/{good['commit']['rkey']}"]
    assert out.cursor == "2000"


async def test_mentions_from_facets_once_and_never_self(app: FastAPI) -> None:
    source = source_for(app)
    text = "hi @alice.test and @alice.test again, @bob.test"
    facets = mention_facets(text, "alice.test", "bob.test")
    facets += mention_facets(text[text.rindex("@alice") - 1 :], "alice.test")  # a second facet
    frames = [
        post(DID_B, 1_000, text, facet_list=facets),
        post(
            DID_A,
            1_001,
            "me @alice.test",
            facet_list=mention_facets("me @alice.test", "alice.test"),
        ),
        post(DID_C, 1_002, "@alice.test in text only, no facet"),
    ]
    out = await decode(source, frames, [stream("m", "bsky:mention", DID_A)])
    [change] = out.changes
    assert change.type is EventType.MENTION_NEW
    assert change.object_id == f"{DID_B}/{frames[0]['commit']['rkey']}"
    assert change.payload["mention"]["author"] == "bob.test", "the stand-in's profile"
    assert set(change.payload["mention"]) == {
        "id",
        "text",
        "author",
        "timestamp",
        "url",
        "authorId",
        "lang",
    }


async def test_search_by_keywords(app: FastAPI) -> None:
    source = source_for(app)
    frames = [
        post(DID_A, 1_000, "I love #Python"),
        post(DID_B, 1_001, "pythonic code"),
        post(DID_C, 1_002, "nothing here"),
    ]
    streams = [
        stream("any", "bsky:search", "#python"),
        stream("word", "bsky:search", "py", keywords=["python"], wholeWord=True),
        stream("case", "bsky:search", "x", keywords=["Python"], caseSensitive=True),
        stream("all", "bsky:search", "x", keywords=["love", "python"], keywordMode="all"),
    ]
    out = await decode(source, frames, streams)
    got = sorted((c.stream_id, c.payload["post"]["text"]) for c in out.changes)
    assert got == [
        ("all", "I love #Python"),
        ("any", "I love #Python"),
        ("case", "I love #Python"),
        ("word", "I love #Python"),
    ]


async def test_post_deletes_of_the_watched_did(app: FastAPI) -> None:
    source = source_for(app)
    frames = [
        records.commit_delete(DID_A, 1_000, records.POST, "3mmaaaaaaaaaa"),
        records.commit_delete(DID_B, 1_001, records.POST, "3mmaaaaaaaaab"),
    ]
    out = await decode(source, frames, [stream("s", "bsky:post", DID_A)])
    [change] = out.changes
    assert change.type is EventType.POST_DELETED
    assert change.object_id == f"{DID_A}/3mmaaaaaaaaaa"
    assert change.payload["post"]["id"] == f"at://{DID_A}/app.bsky.feed.post/3mmaaaaaaaaaa"
    assert change.payload["post"]["author"] == "alice.test"


async def test_unfollow_names_who_left_and_the_map_outlives_the_append(app: FastAPI) -> None:
    source = source_for(app)
    streams = [stream("f", "bsky:follower", DID_A)]
    made = await decode(source, [follow(DID_B, 1_000, DID_A, "rk1")], streams)
    assert [c.type for c in made.changes] == [EventType.FOLLOWER_NEW]
    assert made.changes[0].payload["follower"] == {
        "id": DID_B,
        "username": "bob.test",
        "name": "Bob",
    }
    unfollow = records.commit_delete(DID_B, 2_000, records.FOLLOW, "rk1")
    stranger = records.commit_delete(DID_C, 2_001, records.FOLLOW, "unknown")
    lost = await decode(source, [unfollow, stranger], streams, cursor=made.cursor)
    [change] = lost.changes
    assert change.type is EventType.FOLLOWER_LOST and change.object_id == f"{DID_B}/rk1"
    assert change.payload == {"unfollower": {"id": DID_B, "username": "bob.test"}}
    assert await source.store.follow_subjects([(DID_B, "rk1")]) == [DID_A], (
        "kept until the cursor passes the delete (its event may not be appended yet)"
    )
    replayed = await decode(source, [unfollow], streams, cursor=made.cursor)
    assert [c.object_id for c in replayed.changes] == [f"{DID_B}/rk1"], "a retry finds it again"
    await decode(source, [], streams, cursor=lost.cursor)
    assert await source.store.follow_subjects([(DID_B, "rk1")]) == [None]


async def test_follow_and_unfollow_in_one_batch(app: FastAPI) -> None:
    source = source_for(app)
    frames = [
        follow(DID_B, 1_000, DID_A, "rk1"),
        follow(DID_C, 1_001, DID_B, "rk2"),  # of someone unwatched: not mapped
        records.commit_delete(DID_B, 1_002, records.FOLLOW, "rk1"),
    ]
    out = await decode(source, frames, [stream("f", "bsky:follower", DID_A)])
    assert [c.type for c in out.changes] == [EventType.FOLLOWER_NEW, EventType.FOLLOWER_LOST]
    assert await source.store.follow_subjects([(DID_C, "rk2")]) == [None]


async def test_self_follow_is_no_follower(app: FastAPI) -> None:
    source = source_for(app)
    out = await decode(source, [follow(DID_A, 1_000, DID_A)], [stream("f", "bsky:follower", DID_A)])
    assert out.changes == []


async def test_each_type_only_its_own_hits(app: FastAPI) -> None:
    source = source_for(app)
    text = "hey @alice.test"
    frames = [
        post(DID_A, 1_000, "alice writes python"),
        post(DID_B, 1_001, text, facet_list=mention_facets(text, "alice.test")),
        follow(DID_C, 1_002, DID_A),
        post(DID_C, 1_003, "carol writes"),
    ]
    streams = [
        stream("p", "bsky:post", "alice.test"),
        stream("m", "bsky:mention", DID_A),
        stream("f", "bsky:follower", "@Alice.Test"),
        stream("q", "bsky:search", "python"),
    ]
    out = await decode(source, frames, streams)
    got = [(c.stream_id, c.type, c.object_id.split("/")[0]) for c in out.changes]
    assert got == [
        ("p", EventType.POST_NEW, DID_A),
        ("q", EventType.POST_NEW, DID_A),
        ("m", EventType.MENTION_NEW, DID_B),
        ("f", EventType.FOLLOWER_NEW, DID_C),
    ]

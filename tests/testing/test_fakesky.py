"""The Jetstream stand-in: the recorded frames' shapes, cursor replay, Jetstream's filters
and options_update, the XRPC answers, and every fault."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus

from herald.testing.fakesky import records
from tests.testing.fakesky_support import (
    fakesky,
    frames_until,
    next_frame,
    recorded_frames,
    recording_dir,
)
from tests.waiting import wait_until

POST = "app.bsky.feed.post"
FOLLOW = "app.bsky.graph.follow"


def _recorded(kind: str, collection: str | None = None, op: str | None = None) -> dict[str, Any]:
    for frame in recorded_frames():
        commit = frame.get("commit", {})
        if frame["kind"] == kind and (
            collection is None or (commit["collection"] == collection and commit["operation"] == op)
        ):
            return frame
    raise AssertionError(f"the recording has no {kind} {collection} {op}")


def test_built_frames_have_the_recorded_shapes() -> None:
    did = records.did_for("alice.test")
    post = records.commit_create(
        did, 1, POST, records.tid(1), records.post_record("hi", records.iso(1), langs=["en"])
    )
    recorded_post = _recorded("commit", POST, "create")
    assert post.keys() == recorded_post.keys()
    assert post["commit"].keys() == recorded_post["commit"].keys()
    assert post["commit"]["record"].keys() <= recorded_post["commit"]["record"].keys()
    follow = records.commit_create(
        did, 2, FOLLOW, records.tid(2), records.follow_record(did, records.iso(2))
    )
    recorded_follow = _recorded("commit", FOLLOW, "create")
    assert follow["commit"]["record"].keys() == recorded_follow["commit"]["record"].keys()
    delete = records.commit_delete(did, 3, POST, "r")
    recorded_delete = next(
        f for f in recorded_frames() if f.get("commit", {}).get("operation") == "delete"
    )
    assert delete["commit"].keys() == recorded_delete["commit"].keys()
    assert records.identity(did, 4, 5, None)["identity"].keys() == (
        _recorded("identity")["identity"].keys()
    )
    assert records.account(did, 4, 5, True)["account"].keys() == (
        _recorded("account")["account"].keys()
    )
    for made, real in ((post, recorded_post), (follow, recorded_follow)):
        assert len(made["commit"]["rkey"]) == len(real["commit"]["rkey"]) == 13
        assert made["commit"]["cid"][:7] == real["commit"]["cid"][:7] == "bafyrei"
        assert len(made["commit"]["cid"]) == len(real["commit"]["cid"])


def test_tids_sort_by_time() -> None:
    assert records.tid(1_000) < records.tid(1_001) < records.tid(2_000_000_000_000_000)
    assert records.tid(1779719008778000)[:4] == "3mmo"  # the recording's rkeys of that day


async def test_cursor_replays_the_recording_inclusively() -> None:
    frames = sorted(recorded_frames(), key=lambda f: f["time_us"])
    async with fakesky(recording_dir()) as sky, sky.subscribe(cursor=frames[3]["time_us"]) as ws:
        got = await frames_until(ws, frames[-1]["time_us"])
    assert got == frames[3:], "from the cursor's own frame on, in time_us order, as recorded"


async def test_old_cursor_starts_at_the_oldest_kept_frame() -> None:
    frames = sorted(recorded_frames(), key=lambda f: f["time_us"])
    async with fakesky(recording_dir()) as sky, sky.subscribe(cursor=1) as ws:
        assert await next_frame(ws) == frames[0]


async def test_no_cursor_is_live_only() -> None:
    async with fakesky(recording_dir()) as sky:
        async with sky.subscribe() as ws:
            sent = await sky.control("POST", "/users/alice.test/posts", text="now")
            frame = await next_frame(ws)
        assert frame["time_us"] == sent["time_us"] and frame["commit"]["rkey"] == sent["rkey"]


async def test_collection_and_did_filters() -> None:
    async with fakesky() as sky:
        alice = await sky.user("alice.test")
        async with sky.subscribe(wantedCollections=[POST], wantedDids=[alice["did"]]) as ws:
            await sky.control("POST", "/users/bob.test/posts", text="not alice")
            await sky.control("POST", "/users/bob.test/followers", follower="alice.test")
            await sky.control("PUT", "/users/alice.test/active", active=False)
            mine = await sky.control("POST", "/users/alice.test/posts", text="alice")
            account = await next_frame(ws)
            assert account["kind"] == "account", "identity/account pass the collection filter"
            assert (await next_frame(ws))["time_us"] == mine["time_us"]


async def test_options_update_changes_the_filter_in_place() -> None:
    async with fakesky() as sky:
        bob = await sky.user("bob.test")
        nobody = "did:plc:" + "a" * 24
        async with sky.subscribe(wantedCollections=[POST], wantedDids=[nobody]) as ws:
            await ws.send(
                '{"type":"options_update","payload":{"wantedCollections":["app.bsky.feed.post"],'
                f'"wantedDids":["{bob["did"]}"],"maxMessageSizeBytes":0}}}}'
            )
            await wait_until(lambda: _updates(sky), timeout=10, what="the update was not applied")
            sent = await sky.control("POST", "/users/bob.test/posts", text="bob")
            assert (await next_frame(ws))["time_us"] == sent["time_us"]
        counts = await sky.control("GET", "/requests")
        assert counts["subscribe"] == 1 and counts["optionsUpdate"] == 1


async def _updates(sky: Any) -> bool:
    counts = await sky.control("GET", "/requests")
    return bool(counts.get("optionsUpdate"))


async def test_mention_facets_name_the_did_at_byte_offsets() -> None:
    async with fakesky() as sky, sky.subscribe(wantedCollections=[POST]) as ws:
        bob = await sky.user("bob.test")
        await sky.control("POST", "/users/bob.test/mentions", by="alice.test", text="héllo")
        record = (await next_frame(ws))["commit"]["record"]
    facet = record["facets"][0]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert record["text"].encode()[start:end] == b"@bob.test"
    assert facet["features"] == [{"$type": records.MENTION, "did": bob["did"]}]


async def test_unfollow_frame_names_only_the_follower_and_rkey() -> None:
    async with fakesky() as sky, sky.subscribe(wantedCollections=[FOLLOW]) as ws:
        followed = await sky.control("POST", "/users/alice.test/followers", username="bob.test")
        left = await sky.control("DELETE", "/users/alice.test/followers/bob.test")
        create, delete = await next_frame(ws), await next_frame(ws)
    alice = await _profile_did("alice.test")
    assert create["commit"]["record"]["subject"] == alice
    assert delete["did"] == create["did"] == followed["did"]
    assert delete["commit"] == {
        "rev": delete["commit"]["rev"],
        "operation": "delete",
        "collection": FOLLOW,
        "rkey": followed["rkey"],
    }
    assert left["rkey"] == followed["rkey"]


async def _profile_did(handle: str) -> str:
    return records.did_for(handle)


async def test_xrpc_resolve_and_profiles() -> None:
    async with fakesky() as sky:
        await sky.control("POST", "/users/alice.test/followers", follower="bob.test")
        resolved = await sky.http.get(
            "/xrpc/com.atproto.identity.resolveHandle", params={"handle": "Alice.Test"}
        )
        assert resolved.json() == {"did": records.did_for("alice.test")}
        unknown = await sky.http.get(
            "/xrpc/com.atproto.identity.resolveHandle", params={"handle": "nobody.test"}
        )
        assert unknown.status_code == 400 and unknown.json()["error"] == "InvalidRequest"
        profile = (
            await sky.http.get("/xrpc/app.bsky.actor.getProfile", params={"actor": "alice.test"})
        ).json()
        assert profile["followersCount"] == 1 and profile["handle"] == "alice.test"
        many = await sky.http.get(
            "/xrpc/app.bsky.actor.getProfiles",
            params=[("actors", "alice.test"), ("actors", records.did_for("bob.test"))],
        )
        assert [p["handle"] for p in many.json()["profiles"]] == ["alice.test", "bob.test"]
        counts = await sky.control("GET", "/requests")
        assert counts["resolveHandle"] == 2 and counts["getProfiles"] == 1


async def test_handle_change_sends_identity_and_resolves_anew() -> None:
    async with fakesky() as sky, sky.subscribe() as ws:
        await sky.control("PUT", "/users/alice.test/handle", handle="alice2.test")
        frame = await next_frame(ws)
        assert frame["kind"] == "identity"
        assert frame["identity"]["handle"] == "alice2.test"
        answer = await sky.http.get(
            "/xrpc/com.atproto.identity.resolveHandle", params={"handle": "alice2.test"}
        )
        assert answer.json()["did"] == frame["did"]


async def test_fault_drop_closes_the_connection() -> None:
    async with fakesky() as sky, sky.subscribe() as ws:
        await wait_until(lambda: _connected(sky), timeout=10, what="not connected")
        await sky.control("POST", "/faults", mode="drop")
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)


async def _connected(sky: Any) -> bool:
    return bool((await sky.control("GET", "/requests"))["connected"])


async def test_fault_garbage_then_frames_again() -> None:
    async with fakesky() as sky, sky.subscribe() as ws:
        await wait_until(lambda: _connected(sky), timeout=10, what="not connected")
        await sky.control("POST", "/faults", mode="garbage", count=2, text="<html>")
        assert await asyncio.wait_for(ws.recv(), 10) == "<html>"
        assert await asyncio.wait_for(ws.recv(), 10) == "<html>"
        sent = await sky.control("POST", "/users/alice.test/posts", text="after")
        assert (await next_frame(ws))["time_us"] == sent["time_us"]


async def test_fault_stall_holds_frames_until_it_ends() -> None:
    async with fakesky() as sky, sky.subscribe() as ws:
        await wait_until(lambda: _connected(sky), timeout=10, what="not connected")
        await sky.control("POST", "/faults", mode="stall", seconds=1.5)
        sent = await sky.control("POST", "/users/alice.test/posts", text="held")
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(ws.recv(), 0.3)
        assert (await next_frame(ws, timeout=20))["time_us"] == sent["time_us"]


async def test_fault_old_cursor_loses_what_was_forgotten() -> None:
    async with fakesky() as sky:
        first = await sky.control("POST", "/users/alice.test/posts", text="one")
        await sky.control("POST", "/users/alice.test/posts", text="two")
        third = await sky.control("POST", "/users/alice.test/posts", text="three")
        await sky.control("POST", "/faults", mode="old_cursor", keep=1)
        async with sky.subscribe(cursor=first["time_us"]) as ws:
            assert (await next_frame(ws))["time_us"] == third["time_us"]


async def test_fault_refuse_and_bad_queries_answer_http() -> None:
    async with fakesky() as sky:
        await sky.control("POST", "/faults", mode="refuse", status=503)
        with pytest.raises(InvalidStatus) as refused:
            async with sky.subscribe():
                pass
        assert refused.value.response.status_code == 503
        for bad in ({"wantedCollections": "not a nsid"}, {"wantedDids": "x"}, {"cursor": "z"}):
            with pytest.raises(InvalidStatus) as answer:
                async with sky.subscribe(**bad):
                    pass
            assert answer.value.response.status_code == 400
        async with sky.subscribe() as ws:  # the refusal was used up
            sent = await sky.control("POST", "/users/alice.test/posts", text="ok")
            assert (await next_frame(ws))["time_us"] == sent["time_us"]


async def test_fault_xrpc_status_once() -> None:
    async with fakesky() as sky:
        await sky.control("POST", "/faults", mode="xrpc_status", status=502, method="getProfile")
        path, params = "/xrpc/app.bsky.actor.getProfile", {"actor": "alice.test"}
        assert (await sky.http.get(path, params=params)).status_code == 502
        assert (await sky.http.get(path, params=params)).status_code == 200


async def test_bad_subscriber_message_closes_with_a_reason() -> None:
    async with fakesky() as sky, sky.subscribe() as ws:
        await ws.send("nonsense")
        with pytest.raises(ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_burst_and_replay_are_in_time_order() -> None:
    async with fakesky(recording_dir()) as sky, sky.subscribe() as ws:
        burst = await sky.control("POST", "/users/alice.test/burst", count=50)
        replay = await sky.control("POST", "/replay", times=2)
        got = await frames_until(ws, replay["last"])
        assert (await sky.control("GET", "/requests"))["framesSent"] == len(got)
    times = [f["time_us"] for f in got]
    assert times == sorted(times) and len(set(times)) == len(times) == 50 + replay["count"]
    assert got[0]["time_us"] == burst["first"]
    rkeys = {(f["did"], f.get("commit", {}).get("rkey")) for f in got if "commit" in f}
    assert len(rkeys) == 50 + 2 * 8, "every replayed round's records are new records"


async def test_window_is_bounded() -> None:
    async with fakesky(window=5) as sky:
        await sky.control("POST", "/users/alice.test/burst", count=12)
        kept = await sky.control("GET", "/frames")
        assert len(kept["frames"]) == 5


async def test_reset_forgets_accounts_and_frames() -> None:
    async with fakesky() as sky:
        await sky.user("dave.test")
        await sky.control("POST", "/users/dave.test/posts", text="x")
        await sky.control("POST", "/reset")
        assert (await sky.http.get("/_fakesky/users/dave.test")).status_code == 404
        assert (await sky.control("GET", "/frames"))["frames"] == []

"""x:dm streams against a real X stand-in (synthetic DM shapes) and real Redis: a silent
baseline, each new message once (repeated polls, a restart, a crash before the commit,
more messages than a page), one notice per encrypted conversation, malformed answers."""

from __future__ import annotations

from typing import Any

import pytest

from herald.config import Settings
from herald.engine.poller import PollOutcome
from herald.events import EventType
from herald.service import Herald
from herald.sources.memory import MemorySource
from herald.sources.x.inbox import CURSOR_FIELD
from herald.store.cursors import encode_cursor
from herald.testing.fakex.dms import PAGE
from tests.engine.x_world import COOKIE, XWorld, x_world

DM = EventType.DM_NEW.value
UNREADABLE = EventType.DM_UNREADABLE.value


async def dm(world: XWorld, to: str, sender: str, text: str) -> str:
    sent = await world.control("POST", f"/users/{to}/dms", json={"from": sender, "text": text})
    return str(sent["id"])


async def inbox_of(world: XWorld, username: str) -> str:
    """Bind the stream cookie's session to ``username`` and start ``x:dm`` of ``me``."""
    await world.control("POST", "/sessions", json={"authToken": COOKIE, "username": username})
    return await world.start("x:dm", "me")


async def dms(world: XWorld, stream_id: str) -> list[dict[str, Any]]:
    return [e["dm"] for e in await world.events(stream_id, DM)]


async def stored_cursor(herald: Herald, stream_id: str) -> str | None:
    record = await herald.store.get(stream_id)
    assert record is not None
    return record.cursor.get(CURSOR_FIELD)


async def test_baseline_is_silent_then_each_new_message_once(settings: Settings) -> None:
    # HERALD_X_TRANSACTION_ID left to "auto": the stand-in is not x.com, so nothing signs
    async with x_world(settings, x_transaction_id="auto") as world:
        for i in range(4):
            await dm(world, "alice", "bob", f"before {i}")
        stream = await inbox_of(world, "alice")
        baseline = await world.poll(stream)
        assert (baseline["outcome"], baseline["events"]) == ("baseline", 0)
        assert await dms(world, stream) == []
        new = [await dm(world, "alice", "carol", "one"), await dm(world, "alice", "bob", "two")]
        first = await world.poll(stream)
        assert (first["outcome"], first["events"]) == ("ok", 2)
        got = await dms(world, stream)
        assert [d["id"] for d in got] == new  # oldest first
        assert [(d["sender"], d["text"], d["direction"]) for d in got] == [
            ("carol", "one", "incoming"),
            ("bob", "two", "incoming"),
        ]
        assert got[0]["conversationId"] and got[0]["timestamp"].endswith("Z")
        for _ in range(2):
            again = await world.poll(stream)
            assert again["events"] == 0
        assert len(await dms(world, stream)) == 2


async def test_the_accounts_own_messages_come_with_direction_outgoing(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        await dm(world, "bob", "alice", "sent from alice's phone")  # alice writes to bob
        await world.poll(stream)
        [sent] = await dms(world, stream)
        assert (sent["sender"], sent["direction"]) == ("alice", "outgoing")


async def test_a_restarted_herald_resumes_at_the_stored_cursor(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        first = await dm(world, "alice", "bob", "before the restart")
        await world.poll(stream)
        cursor = await stored_cursor(world.herald, stream)
        assert cursor
        late = await dm(world, "alice", "bob", "while herald was down")
        await world.herald.stop()
        async with Herald(world.herald.settings, worker=False, delivery=False) as again:
            assert await stored_cursor(again, stream) == cursor
            outcome = await again.manager.poll_now(stream)
            assert outcome["events"] == 1
            await again.manager.poll_now(stream)
            history = list(reversed(await again.manager.history(stream, 100)))
            got = [e["dm"]["id"] for e in history if e["type"] == DM]
            assert got == [first, late]
            await world.herald.start()  # the world's own teardown stops it again


async def test_a_crash_between_append_and_commit_duplicates_nothing(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        sent = [await dm(world, "alice", "bob", f"m{i}") for i in range(3)]
        store = world.herald.store
        real_commit = store.commit_poll

        async def crash(*args: Any, **kwargs: Any) -> bool:
            raise ConnectionError("the worker died before it committed")

        monkeypatch.setattr(store, "commit_poll", crash)
        failed = await world.poll(stream)
        assert failed["outcome"] == "error"
        assert [d["id"] for d in await dms(world, stream)] == sent  # appended, not committed
        monkeypatch.setattr(store, "commit_poll", real_commit)
        retried = await world.poll(stream)  # the same cursor: the same messages, again
        assert (retried["outcome"], retried["events"]) == ("ok", 0)
        assert [d["id"] for d in await dms(world, stream)] == sent


async def test_more_new_messages_than_a_page(settings: Settings) -> None:
    count = 2 * PAGE + 5
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        sent = [await dm(world, "alice", "bob", f"m{i}") for i in range(count)]
        before = await world.requests("DMUserUpdates")
        outcome = await world.poll(stream)
        assert outcome["events"] == count
        assert await world.requests("DMUserUpdates") - before == 3  # 20 + 20 + 5
        assert [d["id"] for d in await dms(world, stream)] == sent
        assert await world.events(stream, EventType.GAP.value) == []


async def test_a_page_bound_continues_at_the_next_poll(settings: Settings) -> None:
    async with x_world(settings, max_pages=1) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        sent = [await dm(world, "alice", "bob", f"m{i}") for i in range(PAGE + 3)]
        counts = [(await world.poll(stream))["events"] for _ in range(3)]
        assert counts == [PAGE, 3, 0]
        assert [d["id"] for d in await dms(world, stream)] == sent
        assert await world.events(stream, EventType.GAP.value) == []


async def test_an_encrypted_conversation_is_one_notice_not_one_per_poll(
    settings: Settings,
) -> None:
    async with x_world(settings) as world:
        await world.control("POST", "/users/alice/dms/encrypted", json={"from": "carol"})
        stream = await inbox_of(world, "alice")
        baseline = await world.poll(stream)
        assert baseline["events"] == 1  # a notice, not a message: said on the baseline too
        for _ in range(3):
            await world.control("POST", "/users/alice/dms/encrypted", json={"from": "carol"})
            await world.control("POST", "/users/alice/dms/encrypted", json={"from": "bob"})
            await dm(world, "alice", "bob", "plain")
            await world.poll(stream)
        notices = await world.events(stream, UNREADABLE)
        assert len(notices) == 2  # carol's and bob's encrypted conversations, once each
        assert {n["reason"] for n in notices} == {"end_to_end_encrypted"}
        assert sorted(n["participants"][0] for n in notices) == ["bob", "carol"]
        assert all(n["eventId"].startswith("dm.unreadable:") for n in notices)
        assert [d["text"] for d in await dms(world, stream)] == ["plain"] * 3


@pytest.mark.parametrize(
    "fault", [{"mode": "garbage"}, {"mode": "empty"}, {"status": 500}, {"mode": "logged_out"}]
)
async def test_a_malformed_answer_is_an_error_and_changes_nothing(
    settings: Settings, fault: dict[str, Any]
) -> None:
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        sent = await dm(world, "alice", "bob", "waiting")
        cursor = await stored_cursor(world.herald, stream)
        await world.control("POST", "/faults", json={**fault, "operation": "DMUserUpdates"})
        failed = await world.poll(stream)
        assert failed["outcome"] == "error" and failed["error"]
        [error] = await world.events(stream, EventType.ERROR.value)
        assert error["kind"] in {"schema_error", "upstream_error", "auth_failed"}
        assert await stored_cursor(world.herald, stream) == cursor
        assert await dms(world, stream) == []
        if fault.get("mode") == "logged_out":
            return  # the account is marked auth_failed: a fresh cookie is the way on
        recovered = await world.poll(stream)
        assert recovered["events"] == 1
        assert [d["id"] for d in await dms(world, stream)] == [sent]


async def test_an_inbox_named_by_an_account_label(settings: Settings) -> None:
    async with x_world(settings) as world:
        await world.control("POST", "/sessions", json={"authToken": COOKIE, "username": "bob"})
        await world.herald.accounts().add(COOKIE, label="support")
        stream = str((await world.herald.manager.create("x:dm", "support", interval=3600))["id"])
        await world.poll(stream)
        await dm(world, "bob", "carol", "for the support inbox")
        await world.poll(stream)
        assert [d["text"] for d in await dms(world, stream)] == ["for the support inbox"]
        missing = str((await world.herald.manager.create("x:dm", "nobody", interval=3600))["id"])
        outcome: PollOutcome | dict[str, Any] = await world.poll(missing)
        assert outcome["outcome"] == "error"
        [error] = await world.events(missing, EventType.ERROR.value)
        assert "nobody" in error["error"] and error["kind"] == "auth_failed"


async def test_a_new_account_reads_its_inbox_from_now_on(settings: Settings) -> None:
    other = "0ther5e55101c00c1e5ec4e7a17e5e55101c00c1"  # made up
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        await world.control("POST", "/sessions", json={"authToken": other, "username": "bob"})
        await dm(world, "bob", "carol", "in bob's inbox before the switch")
        await world.herald.manager.update(stream, authToken=other)
        switched = await world.poll(stream)
        assert switched["outcome"] == "ok"
        [notice] = await world.events(stream, EventType.ERROR.value)
        assert notice["notice"] is True and notice["kind"] == "inbox_changed"
        await dm(world, "alice", "carol", "alice's, no longer this stream's")
        after = await dm(world, "bob", "carol", "bob's, after the switch")
        await world.poll(stream)
        assert [d["id"] for d in await dms(world, stream)] == [after]


async def test_a_cursor_x_refuses_is_a_gap_then_the_inbox_goes_on(settings: Settings) -> None:
    async with x_world(settings) as world:
        stream = await inbox_of(world, "alice")
        await world.poll(stream)
        record = await world.herald.store.get(stream)
        assert record is not None
        stale = {**record.cursor, CURSOR_FIELD: "GRwm-expired"}
        await world.herald.store.set_state(stream, {"cursor": encode_cursor(stale)})
        await dm(world, "alice", "bob", "sent while the cursor went stale")
        refused = await world.poll(stream)
        assert refused["outcome"] == "ok"
        [gap] = await world.events(stream, EventType.GAP.value)
        assert "cursor" in gap["reason"] and gap["streamType"] == "x:dm"
        assert await stored_cursor(world.herald, stream) != "GRwm-expired"
        later = await dm(world, "alice", "bob", "after the gap")
        await world.poll(stream)
        assert [d["id"] for d in await dms(world, stream)] == [later]


@pytest.mark.herald_options(worker=False)
async def test_the_in_memory_twin_serves_x_dm_too(herald: Herald, source: MemorySource) -> None:
    source.send_dm("me", "bob", "old")
    stream = await herald.manager.create("x:dm", "me", interval=3600)
    first = await herald.manager.poll_now(stream["id"])
    assert (first["outcome"], first["events"]) == ("baseline", 0)
    sent = source.send_dm("me", "bob", "new")
    assert (await herald.manager.poll_now(stream["id"]))["events"] == 1
    assert (await herald.manager.poll_now(stream["id"]))["events"] == 0
    history = await herald.manager.history(stream["id"], 100)
    [event] = [e for e in history if e["type"] == DM]
    assert event["eventId"] == f"dm:{sent.id}@{stream['id']}"
    assert event["dm"]["text"] == "new" and event["platform"] == "x"

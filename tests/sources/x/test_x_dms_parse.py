"""The DM inbox parser on synthetic bodies (no recording of X's DM answers exists): what it
reads, what it marks unreadable, and the shapes it refuses loudly."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from herald.errors import SchemaError
from herald.sources.x.dms import ENCRYPTED, parse_inbox

ME, BOB, CAROL = "100", "200", "300"


def message(mid: str, cid: str, sender: str, text: str, **extra: Any) -> dict[str, Any]:
    data = {"id": mid, "time": "1767603600000", "sender_id": sender, "text": text, **extra}
    return {
        "message": {"id": mid, "time": data["time"], "conversation_id": cid, "message_data": data}
    }


def inbox(entries: list[dict[str, Any]], key: str = "inbox_initial_state") -> dict[str, Any]:
    return {
        key: {
            "cursor": "GRwmABC",
            "entries": entries,
            "users": {
                ME: {"id_str": ME, "screen_name": "me_account", "name": "Me"},
                BOB: {"id_str": BOB, "screen_name": "bob", "name": "Bob Builder"},
                CAROL: {"id_str": CAROL, "screen_name": "carol", "name": "Carol"},
            },
            "conversations": {
                f"{ME}-{BOB}": {
                    "conversation_id": f"{ME}-{BOB}",
                    "type": "ONE_TO_ONE",
                    "participants": [{"user_id": ME}, {"user_id": BOB}],
                },
                "g1": {
                    "conversation_id": "g1",
                    "type": "GROUP_DM",
                    "participants": [{"user_id": ME}, {"user_id": BOB}, {"user_id": CAROL}],
                },
            },
        }
    }


def test_messages_newest_first_with_handles_and_directions() -> None:
    raw = inbox(
        [
            message("11", f"{ME}-{BOB}", BOB, "hi", recipient_id=ME),
            message("13", "g1", CAROL, "group hello"),
            message("12", f"{ME}-{BOB}", ME, "hello back", recipient_id=BOB),
            {"reaction_create": {"id": "14", "message_id": "11"}},
            {"conversation_read": {"id": "15", "conversation_id": "g1"}},
        ]
    )
    page = parse_inbox(raw, self_id=ME)
    assert page.cursor == "GRwmABC" and not page.has_more and page.unreadable == []
    assert [m.id for m in page.messages] == ["13", "12", "11"]
    group, mine, theirs = page.messages
    assert group.dm_payload() == {
        "id": "13",
        "text": "group hello",
        "sender": "carol",
        "senderId": CAROL,
        "senderName": "Carol",
        "conversationId": "g1",
        "conversationType": "GROUP_DM",
        "timestamp": "2026-01-05T09:00:00.000Z",
        "direction": "incoming",
    }
    assert mine.outgoing and mine.dm_payload()["direction"] == "outgoing"
    assert not theirs.outgoing and theirs.recipient_id == ME


def test_an_unknown_sender_is_named_by_id() -> None:
    page = parse_inbox(inbox([message("11", "x-y", "999", "who?")]))
    assert page.messages[0].sender == "999" and page.messages[0].sender_name == ""


def test_a_quiet_update_is_the_cursor_alone() -> None:
    page = parse_inbox({"user_events": {"cursor": "GRwmNEXT", "last_seen_event_id": "5"}})
    assert page.messages == [] and page.cursor == "GRwmNEXT" and not page.has_more
    more = parse_inbox({"user_events": {"cursor": "GRwmN", "status": "HAS_MORE"}})
    assert more.has_more


@pytest.mark.parametrize("flag", ["encrypted", "is_encrypted"])
def test_an_encrypted_message_makes_its_conversation_unreadable(flag: str) -> None:
    raw = inbox(
        [
            message("21", f"{ME}-{BOB}", BOB, "q8Zx0ciphertext==", **{flag: True}),
            message("20", "g1", CAROL, "readable"),
        ]
    )
    page = parse_inbox(raw, self_id=ME)
    assert [m.text for m in page.messages] == ["readable"]
    [closed] = page.unreadable
    assert closed.conversation_id == f"{ME}-{BOB}"
    assert closed.payload()["reason"] == ENCRYPTED == "end_to_end_encrypted"
    assert closed.participants == ("bob",)  # the account itself is not listed
    assert "q8Zx0" not in str(closed.payload())  # the ciphertext goes nowhere


@pytest.mark.parametrize("flag", ["encrypted", "is_e2ee"])
def test_an_encrypted_conversation_hides_every_message_of_it(flag: str) -> None:
    raw = inbox([message("31", "g1", BOB, "text that must not be reported")])
    raw["inbox_initial_state"]["conversations"]["g1"][flag] = True
    page = parse_inbox(raw, self_id=ME)
    assert page.messages == []
    assert [u.conversation_id for u in page.unreadable] == ["g1"]
    assert page.unreadable[0].participants == ("bob", "carol")


def test_an_encrypted_conversation_without_messages_is_still_reported() -> None:
    raw = inbox([])
    raw["inbox_initial_state"]["conversations"]["g1"]["is_e2ee"] = True
    assert [u.conversation_id for u in parse_inbox(raw).unreadable] == ["g1"]


def _broken(change: str) -> Any:
    raw = inbox([message("11", f"{ME}-{BOB}", BOB, "hi")])
    body = raw["inbox_initial_state"]
    data = body["entries"][0]["message"]["message_data"]
    if change == "not-an-object":
        return ["inbox_initial_state"]
    if change == "no-known-key":
        return {"data": {}}
    if change == "no-cursor":
        del body["cursor"]
    elif change == "entries-not-a-list":
        body["entries"] = {"0": {}}
    elif change == "entry-not-an-object":
        body["entries"] = ["x"]
    elif change == "no-message-data":
        del body["entries"][0]["message"]["message_data"]
    elif change == "no-sender":
        del data["sender_id"]
    elif change == "text-not-a-string":
        data["text"] = None
    elif change == "bad-time":
        data["time"] = "yesterday"
    elif change == "no-conversation":
        del body["entries"][0]["message"]["conversation_id"]
    elif change == "users-not-a-map":
        body["users"] = ["bob"]
    return raw


@pytest.mark.parametrize(
    "change",
    [
        "not-an-object",
        "no-known-key",
        "no-cursor",
        "entries-not-a-list",
        "entry-not-an-object",
        "no-message-data",
        "no-sender",
        "text-not-a-string",
        "bad-time",
        "no-conversation",
        "users-not-a-map",
    ],
)
def test_shapes_it_cannot_read_fail_loudly(change: str) -> None:
    with pytest.raises(SchemaError) as caught:
        parse_inbox(_broken(change))
    assert "at " in caught.value.detail  # the path is named


def test_parsing_leaves_the_answer_as_it_was() -> None:
    raw = inbox([message("11", f"{ME}-{BOB}", BOB, "hi")])
    before = copy.deepcopy(raw)
    parse_inbox(raw, self_id=ME)
    assert raw == before

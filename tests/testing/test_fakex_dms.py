"""The stand-in's direct messages: synthetic shapes that hold every field the open-source
clients read, cursor paging, session binding and the control API's refusals."""

from __future__ import annotations

from typing import Any

import httpx

from herald.sources.x.dms import parse_inbox
from herald.testing.fakex.dms import PAGE
from tests.testing.fakex_support import AUTH_TOKEN

INITIAL = "/i/api/1.1/dm/inbox_initial_state.json"
UPDATES = "/i/api/1.1/dm/user_updates.json"

# The fields each cited client reads of these answers (a path per access; ``[]`` is every
# element of a list, ``*`` every value of a map). If the stand-in dropped one, that client
# would fail on it, and so could herald's parser on X's real answer.
TWIKIT_MESSAGE = (  # twikit/client/client.py get_dm_history, twikit/message.py Message
    "message.message_data.id",
    "message.message_data.time",
    "message.message_data.text",
    "message.message_data.sender_id",
    "message.message_data.recipient_id",
)
OFFLINE_TWITTER_ENGINE = (  # pkg/scraper/api_types_dms.go APIInbox, APIDMMessage
    "cursor",
    "last_seen_event_id",
    "entries[].message.id",
    "entries[].message.time",
    "entries[].message.conversation_id",
    "entries[].message.message_data.id",
    "entries[].message.message_data.time",
    "entries[].message.message_data.sender_id",
    "entries[].message.message_data.text",
    "conversations.*.conversation_id",
    "conversations.*.type",
    "conversations.*.participants[].user_id",
    "users.*.id_str",
    "users.*.screen_name",
    "users.*.name",
)
CONVOCATION_INITIAL = (  # the-convocation twitter-scraper src/direct-messages.ts DmInbox
    "cursor",
    "last_seen_event_id",
    "trusted_last_seen_event_id",
    "untrusted_last_seen_event_id",
    "inbox_timelines.trusted.status",
    "inbox_timelines.trusted.min_entry_id",
    "entries[].message.affects_sort",
    "entries[].message.request_id",
    "conversations.*.sort_event_id",
    "conversations.*.trusted",
    "conversations.*.status",
)


def resolve(value: Any, path: str) -> list[Any]:
    """Every value ``path`` reaches; a missing step raises KeyError naming it."""
    found = [value]
    for step in path.split("."):
        many = step.endswith("[]")
        key = step.removesuffix("[]")
        nxt: list[Any] = []
        for item in found:
            children = list(item.values()) if key == "*" else [item[key]]
            for child in children:
                nxt.extend(child if many else [child])
        found = nxt
    return found


async def _bind(client: httpx.AsyncClient, username: str) -> None:
    r = await client.post("/_fakex/sessions", json={"authToken": AUTH_TOKEN, "username": username})
    assert r.status_code == 201, r.text


async def _dm(client: httpx.AsyncClient, to: str, sender: str, text: str) -> dict[str, Any]:
    r = await client.post(f"/_fakex/users/{to}/dms", json={"from": sender, "text": text})
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_the_synthetic_shapes_hold_every_field_the_cited_clients_read(
    client: httpx.AsyncClient,
) -> None:
    await _bind(client, "alice")
    await _dm(client, "alice", "bob", "hello alice")
    await client.post("/_fakex/users/alice/dms", json={"from": "alice", "text": "x"})
    initial = (await client.get(INITIAL)).json()["inbox_initial_state"]
    for path in (*OFFLINE_TWITTER_ENGINE, *CONVOCATION_INITIAL):
        assert resolve(initial, path), path
    one_to_one = [e for e in initial["entries"] if "recipient_id" in e["message"]["message_data"]]
    assert one_to_one
    for entry in one_to_one:
        for path in TWIKIT_MESSAGE:
            assert resolve(entry, path), path
    cursor = initial["cursor"]
    await _dm(client, "alice", "carol", "a new one")
    updates = (await client.get(UPDATES, params={"cursor": cursor})).json()["user_events"]
    for path in OFFLINE_TWITTER_ENGINE:
        assert resolve(updates, path), path
    # and herald's parser reads what the clients read
    page = parse_inbox({"user_events": updates})
    assert [m.text for m in page.messages] == ["a new one"]
    assert page.messages[0].sender == "carol"


async def test_the_resolver_fails_on_a_missing_field() -> None:
    """The shape check above can fail: a field a client reads that is absent is a KeyError."""
    body = {"entries": [{"message": {"message_data": {"id": "1"}}}]}
    assert resolve(body, "entries[].message.message_data.id") == ["1"]
    try:
        resolve(body, "entries[].message.message_data.text")
    except KeyError as exc:
        assert "text" in str(exc)
    else:
        raise AssertionError("a missing field must not resolve")


async def test_updates_page_by_cursor_until_the_end(client: httpx.AsyncClient) -> None:
    await _bind(client, "alice")
    cursor = (await client.get(INITIAL)).json()["inbox_initial_state"]["cursor"]
    sent = [(await _dm(client, "alice", "bob", f"m{i}"))["id"] for i in range(PAGE + 5)]
    seen: list[str] = []
    statuses: list[str | None] = []
    for _ in range(5):
        events = (await client.get(UPDATES, params={"cursor": cursor})).json()["user_events"]
        statuses.append(events.get("status"))
        seen.extend(e["message"]["id"] for e in reversed(events.get("entries", [])))
        if events.get("status") != "HAS_MORE":
            break
        cursor = events["cursor"]
    assert seen == sent
    assert statuses == ["HAS_MORE", None]
    quiet = (await client.get(UPDATES, params={"cursor": events["cursor"]})).json()
    assert "entries" not in quiet["user_events"] and quiet["user_events"]["cursor"]


async def test_a_session_reads_only_its_own_inbox(client: httpx.AsyncClient) -> None:
    await _dm(client, "bob", "carol", "for bob only")
    await _bind(client, "alice")
    initial = (await client.get(INITIAL)).json()["inbox_initial_state"]
    assert initial["entries"] == []
    settings = (await client.get("/i/api/1.1/account/settings.json")).json()
    assert settings["screen_name"] == "alice"


async def test_an_encrypted_conversation_carries_ciphertext(client: httpx.AsyncClient) -> None:
    await _bind(client, "alice")
    r = await client.post("/_fakex/users/alice/dms/encrypted", json={"from": "bob"})
    assert r.status_code == 201
    cid = r.json()["conversationId"]
    refused = await client.post(
        "/_fakex/users/alice/dms", json={"from": "bob", "text": "plain", "conversationId": cid}
    )
    assert refused.status_code == 400
    entry = (await client.get(INITIAL)).json()["inbox_initial_state"]["entries"][0]
    assert entry["message"]["message_data"]["encrypted"] is True


async def test_the_control_api_refuses_bad_input(client: httpx.AsyncClient) -> None:
    bad = [
        ("/_fakex/users/alice/dms", {"from": "bob"}),
        ("/_fakex/users/alice/dms", {"from": "not a name", "text": "x"}),
        ("/_fakex/users/alice/dms", {"from": "bob", "text": ""}),
        ("/_fakex/users/nobody/dms", {"from": "bob", "text": "x"}),
        ("/_fakex/users/alice/dms", {"from": "bob", "text": "x", "conversationId": "9-9"}),
        ("/_fakex/users/alice/dms/encrypted", {}),
        ("/_fakex/sessions", {"username": "alice"}),
    ]
    for path, body in bad:
        r = await client.post(path, json=body)
        assert 400 <= r.status_code < 500, (path, body, r.status_code)


async def test_a_bad_cursor_is_a_clear_400(client: httpx.AsyncClient) -> None:
    for cursor in ("", "nonsense", "GRwm!!!"):
        r = await client.get(UPDATES, params={"cursor": cursor})
        assert r.status_code == 400
        assert r.json()["errors"][0]["code"] == 214


async def test_an_unbound_session_reads_the_fakex_session_inbox(client: httpx.AsyncClient) -> None:
    """The README's way: feed `fakex_session` before anything asked for it."""
    r = await client.post("/_fakex/users/fakex_session/dms", json={"from": "bob", "text": "hi"})
    assert r.status_code == 201, r.text
    entries = (await client.get(INITIAL)).json()["inbox_initial_state"]["entries"]
    assert [e["message"]["message_data"]["text"] for e in entries] == ["hi"]
    settings = (await client.get("/i/api/1.1/account/settings.json")).json()
    assert settings["screen_name"] == "fakex_session"

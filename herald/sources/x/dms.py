"""Pure parser for X's legacy direct-message inbox (no I/O).

X's web app reads the inbox with ``GET /i/api/1.1/dm/inbox_initial_state.json`` (the
newest messages of each conversation and a ``cursor``), then polls
``GET /i/api/1.1/dm/user_updates.json?cursor=...`` for what happened since (``user_events``,
with the next ``cursor``). The shapes read here are the ones open-source clients parse:
``entries[].message.{id, time, conversation_id, message_data{id, time, sender_id,
recipient_id, text}}``, ``users{id: {screen_name, name}}``, ``conversations{id: {type,
participants}}`` (twikit ``twikit/client/client.py`` and ``twikit/message.py``;
offline-twitter-engine ``pkg/scraper/api_types_dms.go``; the-convocation twitter-scraper
``src/direct-messages.ts``). herald holds no recording of these responses: its tests and
the stand-in use synthetic bodies built from those clients' fields.

End-to-end encrypted conversations (X Chat) carry ciphertext, never text herald can read.
A message marked ``encrypted`` / ``is_encrypted`` (the-convocation twitter-scraper,
Rettiwt-API ``IXChatMessage``) or in a conversation marked ``encrypted`` / ``is_e2ee`` is
not a message herald reports: its conversation is reported as unreadable instead, so it is
never dropped silently.

A shape the parser cannot read raises :class:`SchemaError` naming the path: an empty list
would look like "no new messages".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from herald.errors import SchemaError
from herald.sources.models import id_order

Json = dict[str, Any]

INITIAL_KEY = "inbox_initial_state"
UPDATES_KEY = "user_events"
HAS_MORE = "HAS_MORE"
ENCRYPTED = "end_to_end_encrypted"
"""The reason of an unreadable conversation (``stream:dm:unreadable``)."""
_ENCRYPTED_MESSAGE = ("encrypted", "is_encrypted")
_ENCRYPTED_CONVERSATION = ("encrypted", "is_e2ee")


@dataclass(frozen=True, slots=True)
class DirectMessage:
    """One readable message of the account's inbox; an item of the posts diff."""

    id: str
    text: str
    sender_id: str
    sender: str
    """The sender's handle (their id when the response named no user for it)."""
    conversation_id: str
    timestamp: str
    sender_name: str = ""
    recipient_id: str | None = None
    conversation_type: str = ""
    outgoing: bool = False
    """Sent by the account itself (from another device, or by herald's own commands)."""

    @property
    def order(self) -> int:
        return id_order(self.id)

    @property
    def pinned(self) -> bool:
        return False

    def dm_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "sender": self.sender,
            "senderId": self.sender_id,
            "conversationId": self.conversation_id,
            "timestamp": self.timestamp,
            "direction": "outgoing" if self.outgoing else "incoming",
        }
        if self.sender_name:
            payload["senderName"] = self.sender_name
        if self.conversation_type:
            payload["conversationType"] = self.conversation_type
        return payload


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A conversation whose messages herald cannot read (end-to-end encrypted)."""

    conversation_id: str
    reason: str = ENCRYPTED
    participants: tuple[str, ...] = ()
    """Handles (or ids) of the other participants, as far as the response names them."""
    conversation_type: str = ""

    def payload(self) -> dict[str, Any]:
        return {
            "conversationId": self.conversation_id,
            "reason": self.reason,
            "participants": list(self.participants),
            "conversationType": self.conversation_type,
            "detail": "X end-to-end encrypts this conversation (X Chat): its messages "
            "arrive as ciphertext and are not reported; read them in X's app",
        }


@dataclass(frozen=True, slots=True)
class InboxPage:
    """One answer of the inbox: its messages (newest first), unreadable conversations,
    the cursor of what comes after it, and whether X says more is waiting."""

    messages: list[DirectMessage]
    cursor: str
    unreadable: list[Unreadable] = field(default_factory=list)
    has_more: bool = False


def _str_id(value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)) or str(value) == "":
        raise SchemaError("missing or not an id", path=path)
    return str(value)


def _object(value: Any, path: str) -> Json:
    if not isinstance(value, dict):
        raise SchemaError("not an object", path=path)
    return value


def _timestamp(value: Any, path: str) -> str:
    """X's DM ``time``: milliseconds since the epoch, as a string."""
    try:
        ms = int(value)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"unreadable time {value!r}", path=path) from exc
    moment = datetime.fromtimestamp(ms / 1000, tz=UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _flagged(obj: Json, names: tuple[str, ...]) -> bool:
    return any(obj.get(name) is True for name in names)


def _body(raw: Any) -> tuple[Json, str]:
    if not isinstance(raw, dict):
        raise SchemaError("the DM answer is not a JSON object", path="$")
    for key in (INITIAL_KEY, UPDATES_KEY):
        if key in raw:
            return _object(raw[key], key), key
    raise SchemaError(f"neither {INITIAL_KEY} nor {UPDATES_KEY}", path="$")


def _has_more(body: Json, key: str) -> bool:
    if key == UPDATES_KEY:
        return body.get("status") == HAS_MORE
    return False  # the initial state is the newest page; older history is not read


def _names(users: Json) -> dict[str, tuple[str, str]]:
    """User id -> (handle, display name), from the ``users`` map."""
    names: dict[str, tuple[str, str]] = {}
    for user_id, user in users.items():
        if isinstance(user, dict) and isinstance(user.get("screen_name"), str):
            name = user.get("name")
            names[str(user_id)] = (user["screen_name"], name if isinstance(name, str) else "")
    return names


def _participants(conversation: Json) -> list[str]:
    found = conversation.get("participants")
    if not isinstance(found, list):
        return []
    return [str(p["user_id"]) for p in found if isinstance(p, dict) and "user_id" in p]


def parse_inbox(raw: Any, self_id: str | None = None) -> InboxPage:
    """Read an ``inbox_initial_state`` or a ``user_events`` answer.

    ``self_id`` is the account's own user id: its messages are marked outgoing, and it is
    left out of an unreadable conversation's participants.
    """
    body, key = _body(raw)
    cursor = body.get("cursor")
    if not isinstance(cursor, str) or not cursor:
        raise SchemaError("missing cursor", path=f"{key}.cursor")
    users = body.get("users") or {}
    conversations = body.get("conversations") or {}
    entries = body.get("entries", [])
    if not isinstance(entries, list):
        raise SchemaError("entries is not a list", path=f"{key}.entries")
    names = _names(_object(users, f"{key}.users"))
    convs = _object(conversations, f"{key}.conversations")
    closed: dict[str, Unreadable] = {}
    for cid, conv in convs.items():
        if isinstance(conv, dict) and _flagged(conv, _ENCRYPTED_CONVERSATION):
            closed[str(cid)] = _unreadable(str(cid), conv, names, self_id)
    messages: list[DirectMessage] = []
    for index, entry in enumerate(entries):
        path = f"{key}.entries[{index}]"
        if not isinstance(entry, dict):
            raise SchemaError("an entry is not an object", path=path)
        if "message" not in entry:
            continue  # reactions, reads, joins, trust changes: not messages
        message = _object(entry["message"], f"{path}.message")
        cid = _str_id(message.get("conversation_id"), f"{path}.message.conversation_id")
        data = _object(message.get("message_data"), f"{path}.message.message_data")
        if cid in closed or _flagged(data, _ENCRYPTED_MESSAGE):
            if cid not in closed:
                conv = convs.get(cid)
                closed[cid] = _unreadable(
                    cid, conv if isinstance(conv, dict) else {}, names, self_id
                )
            continue
        messages.append(_message(message, data, cid, convs, names, self_id, path))
    messages.sort(key=lambda m: m.order, reverse=True)
    return InboxPage(messages, cursor, list(closed.values()), _has_more(body, key))


def _unreadable(
    cid: str, conversation: Json, names: dict[str, tuple[str, str]], self_id: str | None
) -> Unreadable:
    others = [p for p in _participants(conversation) if p != self_id]
    kind = conversation.get("type")
    return Unreadable(
        conversation_id=cid,
        participants=tuple(names.get(p, (p, ""))[0] for p in others),
        conversation_type=kind if isinstance(kind, str) else "",
    )


def _message(
    message: Json,
    data: Json,
    cid: str,
    convs: Json,
    names: dict[str, tuple[str, str]],
    self_id: str | None,
    path: str,
) -> DirectMessage:
    base = f"{path}.message.message_data"
    message_id = _str_id(data.get("id", message.get("id")), f"{base}.id")
    sender_id = _str_id(data.get("sender_id"), f"{base}.sender_id")
    text = data.get("text")
    if not isinstance(text, str):
        raise SchemaError("missing text", path=f"{base}.text")
    handle, name = names.get(sender_id, (sender_id, ""))
    recipient = data.get("recipient_id")
    conv = convs.get(cid)
    kind = conv.get("type") if isinstance(conv, dict) else None
    return DirectMessage(
        id=message_id,
        text=text,
        sender_id=sender_id,
        sender=handle,
        sender_name=name,
        conversation_id=cid,
        timestamp=_timestamp(data.get("time", message.get("time")), f"{base}.time"),
        recipient_id=str(recipient) if isinstance(recipient, (str, int)) else None,
        conversation_type=kind if isinstance(kind, str) else "",
        outgoing=self_id is not None and sender_id == self_id,
    )

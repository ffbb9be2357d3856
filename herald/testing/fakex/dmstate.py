"""The stand-in's direct messages: conversations and messages (synthetic: see ``dms.py``),
and the opaque inbox cursor."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from fastapi import HTTPException

from herald.testing.fakex.state import FakeUser

_CURSOR_PREFIX = "GRwm"


@dataclass
class Conversation:
    id: str
    participants: list[str]
    encrypted: bool = False

    @property
    def kind(self) -> str:
        return "GROUP_DM" if len(self.participants) > 2 else "ONE_TO_ONE"


@dataclass(frozen=True)
class FakeDM:
    id: str
    conversation_id: str
    sender_id: str
    text: str
    encrypted: bool = False


@dataclass
class DirectMessages:
    """Every conversation and message of the stand-in, in the order they were sent."""

    conversations: dict[str, Conversation] = field(default_factory=dict)
    messages: list[FakeDM] = field(default_factory=list)

    def conversation(self, a: FakeUser, b: FakeUser, cid: str | None) -> Conversation:
        if cid is not None:
            found = self.conversations.get(cid)
            if found is None:
                raise HTTPException(404, f"no conversation {cid!r}")
            if a.id not in found.participants or b.id not in found.participants:
                raise HTTPException(400, "both users must take part in the conversation")
            return found
        low, high = sorted((a.id, b.id), key=int)
        key = f"{low}-{high}"
        return self.conversations.setdefault(key, Conversation(key, [low, high]))

    def inbox(self, user_id: str, after: int = 0) -> list[FakeDM]:
        """The user's messages newer than ``after``, oldest first."""
        mine = {c.id for c in self.conversations.values() if user_id in c.participants}
        return [m for m in self.messages if m.conversation_id in mine and int(m.id) > after]


def encode_cursor(position: int) -> str:
    raw = base64.urlsafe_b64encode(str(position).encode()).decode().rstrip("=")
    return f"{_CURSOR_PREFIX}{raw}"


def decode_cursor(cursor: str) -> int | None:
    if not cursor.startswith(_CURSOR_PREFIX):
        return None
    raw = cursor[len(_CURSOR_PREFIX) :]
    try:
        return int(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode())
    except ValueError:
        return None

"""The stand-in's accounts: handles, DIDs, display names, posts and follows.

It is what the XRPC answers (``resolveHandle``, ``getProfile``) read, and what the control
API changes before the frames of a change go out on ``/subscribe``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from herald.testing.fakesky.records import did_for

HANDLE = r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
_HANDLE = re.compile(HANDLE)
DID = r"^did:(?:plc:[a-z2-7]{24}|web:[a-z0-9.:%-]{1,253})$"
_DID = re.compile(DID)


@dataclass(slots=True)
class Account:
    did: str
    handle: str
    display_name: str = ""
    description: str = ""
    created_at: str = "2026-01-01T00:00:00.000Z"
    active: bool = True
    followers_base: int = 0
    """Followers the profile counts beyond those followed through the control API."""
    followers: dict[str, str] = field(default_factory=dict)
    """follower DID -> the rkey of its follow record (in the follower's repo)."""
    follows: dict[str, str] = field(default_factory=dict)
    """subject DID -> rkey of this account's follow record of it."""
    posts: dict[str, tuple[str, str]] = field(default_factory=dict)
    """rkey -> (uri, cid) of this account's posts."""

    @property
    def followers_count(self) -> int:
        return self.followers_base + len(self.followers)

    def profile(self) -> dict[str, object]:
        """``app.bsky.actor.defs#profileViewDetailed``, the fields herald and clients read."""
        return {
            "did": self.did,
            "handle": self.handle,
            "displayName": self.display_name,
            "description": self.description,
            "followersCount": self.followers_count,
            "followsCount": len(self.follows),
            "postsCount": len(self.posts),
            "indexedAt": self.created_at,
            "createdAt": self.created_at,
            "labels": [],
        }


class World:
    def __init__(self) -> None:
        self.by_did: dict[str, Account] = {}
        self.by_handle: dict[str, Account] = {}

    def create(
        self,
        handle: str,
        *,
        did: str | None = None,
        display_name: str | None = None,
        followers: int = 0,
    ) -> Account:
        handle = handle.lstrip("@").lower()
        if not _HANDLE.match(handle):
            raise ValueError(f"{handle!r} is not a domain handle (e.g. alice.test)")
        did = did or did_for(handle)
        if not _DID.match(did):
            raise ValueError(f"{did!r} is not a did:plc or did:web identifier")
        if handle in self.by_handle or did in self.by_did:
            raise ValueError(f"{handle} or {did} exists")
        name = display_name if display_name is not None else handle.split(".")[0].title()
        account = Account(did, handle, name, followers_base=followers)
        self.by_did[did] = account
        self.by_handle[handle] = account
        return account

    def find(self, actor: str) -> Account | None:
        """By DID or handle (a leading ``@`` and letter case ignored)."""
        if actor.startswith("did:"):
            return self.by_did.get(actor)
        return self.by_handle.get(actor.lstrip("@").lower())

    def rename(self, account: Account, handle: str) -> None:
        handle = handle.lstrip("@").lower()
        if not _HANDLE.match(handle):
            raise ValueError(f"{handle!r} is not a domain handle")
        other = self.by_handle.get(handle)
        if other is not None and other is not account:
            raise ValueError(f"{handle} belongs to {other.did}")
        self.by_handle.pop(account.handle, None)
        account.handle = handle
        self.by_handle[handle] = account

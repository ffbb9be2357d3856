"""The connection's streams arranged for matching, and the Jetstream subscription they need.

One frame is matched against every stream in a few dict lookups: post and mention
streams by the watched DID, follower streams by the follow's subject, search streams by
their keywords. Handles are resolved to DIDs before the index is built.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from herald.push.base import PushStream
from herald.sources.bsky.search import Matcher

POST = "app.bsky.feed.post"
FOLLOW = "app.bsky.graph.follow"
MAX_WANTED_DIDS = 10_000
"""Jetstream's cap on ``wantedDids``; past it herald reads every post and matches itself."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """What to ask Jetstream for: ``wantedCollections`` and ``wantedDids`` (None: all)."""

    collections: tuple[str, ...]
    dids: tuple[str, ...] | None = None

    def options_update(self) -> dict[str, object]:
        return {
            "type": "options_update",
            "payload": {
                "wantedCollections": list(self.collections),
                "wantedDids": list(self.dids or ()),
                "maxMessageSizeBytes": 0,
            },
        }


@dataclass(slots=True)
class Index:
    posts: dict[str, list[PushStream]] = field(default_factory=dict)
    mentions: dict[str, list[PushStream]] = field(default_factory=dict)
    followers: dict[str, list[PushStream]] = field(default_factory=dict)
    searches: list[tuple[PushStream, Matcher]] = field(default_factory=list)
    since_us: dict[str, int] = field(default_factory=dict)
    """stream id -> its ``created_at`` in microseconds: older frames are not new to it."""
    dids: dict[str, str] = field(default_factory=dict)
    """stream id -> the DID it watches (resolved from its handle where needed)."""
    unresolved: dict[str, str] = field(default_factory=dict)
    """stream id -> why its handle has no DID yet."""

    @classmethod
    def build(cls, streams: Sequence[PushStream], dids: dict[str, str]) -> Index:
        """``dids``: stream id -> DID for every stream whose target could be resolved."""
        index = cls(dids=dict(dids))
        for stream in streams:
            index.since_us[stream.id] = int(stream.created_at * 1_000_000)
            if stream.type == "bsky:search":
                index.searches.append((stream, Matcher.build(stream.target, stream.options)))
                continue
            did = dids.get(stream.id)
            if did is None:
                continue
            table = {"bsky:post": index.posts, "bsky:mention": index.mentions}.get(
                stream.type, index.followers
            )
            table.setdefault(did, []).append(stream)
        return index

    @property
    def watched(self) -> set[str]:
        return set(self.dids.values())

    def subscription(self) -> Subscription:
        """Posts when any stream reads posts, follows when any reads followers; DIDs only
        when every stream is a ``bsky:post`` one (mentions, followers and searches are
        about other people's records)."""
        collections = []
        if self.posts or self.mentions or self.searches or not self.followers:
            collections.append(POST)
        if self.followers:
            collections.append(FOLLOW)
        only_posts = not (self.mentions or self.followers or self.searches)
        dids = tuple(sorted(self.posts))
        if only_posts and dids and len(dids) <= MAX_WANTED_DIDS:
            return Subscription(tuple(collections), dids)
        return Subscription(tuple(collections))

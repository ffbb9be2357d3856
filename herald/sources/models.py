"""Typed items that sources return and the diff consumes.

They are platform-neutral enough for X, Bluesky, Mastodon and RSS; ``to_payload`` gives
the seed's wire shape for each event.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


def id_order(object_id: str) -> int:
    """A numeric sort key for an id: X snowflakes are numbers; others sort as 0."""
    try:
        return int(object_id)
    except ValueError:
        return 0


class Item(Protocol):
    """What the posts diff needs of any item: tweets, posts, feed entries.

    ``order`` sorts items by age (X and Mastodon ids are numbers; a feed entry uses its
    publication time in microseconds); 0 means "no known age", so unseen is new.
    """

    @property
    def id(self) -> str: ...

    @property
    def order(self) -> int: ...

    @property
    def pinned(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class User:
    id: str
    username: str
    name: str = ""
    followers_count: int | None = None
    following_count: int | None = None
    tweets_count: int | None = None
    verified: bool = False
    protected: bool = False
    created_at: str | None = None
    description: str = ""
    avatar_url: str | None = None
    blue_verified: bool = False

    def follower_payload(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username, "name": self.name}

    def unfollower_payload(self) -> dict[str, Any]:
        return {"id": self.id, "username": self.username}


@dataclass(frozen=True, slots=True)
class Tweet:
    id: str
    text: str
    author: str
    author_name: str = ""
    author_id: str = ""
    timestamp: str = ""
    url: str = ""
    is_retweet: bool = False
    is_reply: bool = False
    quoted_id: str | None = None
    lang: str | None = None
    pinned: bool = False
    metrics: dict[str, int] = field(default_factory=dict)
    retweeted_id: str | None = None
    in_reply_to_id: str | None = None

    @property
    def order(self) -> int:
        return id_order(self.id)

    def tweet_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "author": self.author,
            "authorName": self.author_name,
            "timestamp": self.timestamp,
            "url": self.url,
            "isRetweet": self.is_retweet,
            "isReply": self.is_reply,
        }
        if self.quoted_id:
            payload["quotedId"] = self.quoted_id
        if self.lang:
            payload["lang"] = self.lang
        if self.metrics:
            payload["metrics"] = dict(self.metrics)
        return payload

    def mention_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "author": self.author,
            "timestamp": self.timestamp,
            "url": self.url,
        }
        if self.lang:
            payload["lang"] = self.lang
        return payload


@dataclass(frozen=True, slots=True)
class TweetPage:
    """One timeline or search page, as the parser read it."""

    tweets: list[Tweet]
    cursor_top: str | None = None
    cursor_bottom: str | None = None


@dataclass(frozen=True, slots=True)
class UserPage:
    """One page of a user list (followers)."""

    users: list[User]
    cursor_top: str | None = None
    cursor_bottom: str | None = None

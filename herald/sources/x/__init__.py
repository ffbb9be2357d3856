"""The X source: pure parsers of X's web GraphQL responses, and the client that fetches them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.sources.x.accounts import AccountStore
from herald.sources.x.parse import parse_tweets, parse_user, parse_users
from herald.sources.x.pollers import poll_followers, poll_mentions, poll_tweets
from herald.sources.x.source import XSource
from herald.sources.x.types import STREAM_TYPES

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys


def build_source(settings: Settings, redis: Redis, keys: Keys) -> XSource:
    return XSource.from_settings(settings, redis, keys)


__all__ = [
    "STREAM_TYPES",
    "AccountStore",
    "XSource",
    "build_source",
    "parse_tweets",
    "parse_user",
    "parse_users",
    "poll_followers",
    "poll_mentions",
    "poll_tweets",
]

"""Bluesky, live through Jetstream: posts, mentions and followers of an account, and
keyword searches over every new post (``bsky:post``, ``bsky:mention``, ``bsky:follower``,
``bsky:search``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.sources.bsky.source import BskySource
from herald.sources.bsky.types import STREAM_TYPES

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys


def build_source(settings: Settings, redis: Redis, keys: Keys) -> BskySource:
    """One source for every ``bsky:*`` stream; its handle cache and follow map live in Redis."""
    return BskySource.from_settings(settings, redis, keys)


__all__ = ["STREAM_TYPES", "BskySource", "build_source"]

"""RSS and Atom feeds (``rss:feed``): conditional GETs, feedparser, guid churn and gaps."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.sources.rss.parse import Entry, Feed, parse_feed
from herald.sources.rss.source import RssSource
from herald.sources.rss.types import STREAM_TYPES, feed_url

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys


def build_source(settings: Settings, redis: Redis, keys: Keys) -> RssSource:
    """A feed needs no account and keeps nothing in Redis beyond the engine's own state."""
    return RssSource.from_settings(settings)


__all__ = ["STREAM_TYPES", "Entry", "Feed", "RssSource", "build_source", "feed_url", "parse_feed"]

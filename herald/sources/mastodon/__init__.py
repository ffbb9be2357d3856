"""The Mastodon source: statuses, followers, mentions, hashtags and public timelines, read
over each instance's REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.sources.mastodon.parse import (
    html_to_text,
    parse_account,
    parse_accounts,
    parse_links,
    parse_mentions,
    parse_status,
    parse_statuses,
)
from herald.sources.mastodon.source import MastodonSource
from herald.sources.mastodon.types import STREAM_TYPES

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys


def build_source(settings: Settings, redis: Redis, keys: Keys) -> MastodonSource:
    return MastodonSource.from_settings(settings, redis, keys)


__all__ = [
    "STREAM_TYPES",
    "MastodonSource",
    "build_source",
    "html_to_text",
    "parse_account",
    "parse_accounts",
    "parse_links",
    "parse_mentions",
    "parse_status",
    "parse_statuses",
]

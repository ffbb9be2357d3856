"""Any WebSocket feed (``ws:feed``): a generic subscribe + map, or exchange presets as
data (Binance, Coinbase). A push source: the push runtime holds its connections."""

from __future__ import annotations

from typing import TYPE_CHECKING

from herald.sources.ws.paths import Path, compile_path
from herald.sources.ws.presets import Preset, presets
from herald.sources.ws.source import WsFeedSource
from herald.sources.ws.spec import FeedSpec, feed_options, feed_spec, ws_url
from herald.sources.ws.types import STREAM_TYPES

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.store.keys import Keys


def build_source(settings: Settings, redis: Redis, keys: Keys) -> WsFeedSource:
    """A feed needs no account and no store of its own: its cursor is the runtime's."""
    return WsFeedSource()


__all__ = [
    "STREAM_TYPES",
    "FeedSpec",
    "Path",
    "Preset",
    "WsFeedSource",
    "build_source",
    "compile_path",
    "feed_options",
    "feed_spec",
    "presets",
    "ws_url",
]

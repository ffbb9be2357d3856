"""Every platform herald knows, listed once.

Each platform module exports ``STREAM_TYPES`` (its :class:`StreamType` entries) and
``build_source(settings, redis, keys)`` (its :class:`Source`). Adding a platform is a line
here; nothing else in herald names a platform or a type.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import TYPE_CHECKING

from herald.sources.types import StreamTypes

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.sources.base import Source
    from herald.store.keys import Keys

PLATFORMS: tuple[str, ...] = ("herald.sources.x",)
"""The platform modules, in the order their types are listed to users."""


@cache
def stream_types() -> StreamTypes:
    """All known stream types (read once; the catalog does not change while running)."""
    types = StreamTypes()
    for module in PLATFORMS:
        for stream_type in importlib.import_module(module).STREAM_TYPES:
            types.add(stream_type)
    return types


def build_sources(settings: Settings, redis: Redis, keys: Keys) -> list[Source]:
    """One source per platform, built from the settings."""
    return [
        importlib.import_module(module).build_source(settings, redis, keys) for module in PLATFORMS
    ]

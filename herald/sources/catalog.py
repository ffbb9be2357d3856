"""Every platform herald knows, listed once.

Each platform module exports ``STREAM_TYPES`` (its :class:`StreamType` entries) and
``build_source(settings, redis, keys)`` (its :class:`Source`). Adding a platform is a line
in :data:`PLATFORMS`; nothing else in herald names a platform or a type.

:func:`register_platform` adds a module at run time (a plug-in, or a test's own platform):
its types join the catalog and its source is built with the others by the next
:class:`~herald.service.Herald` that starts. :func:`platform` does the same for the length
of a ``with`` block.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

from herald.sources.types import StreamTypes

if TYPE_CHECKING:
    from redis.asyncio import Redis

    from herald.config import Settings
    from herald.sources.base import Source
    from herald.store.keys import Keys


PLATFORMS: tuple[str, ...] = (
    "herald.sources.x",
    "herald.sources.mastodon",
    "herald.sources.rss",
    "herald.sources.ws",
    "herald.sources.bsky",
)
"""The platform modules, in the order their types are listed to users."""

_registered: list[ModuleType] = []
"""Modules added with :func:`register_platform`, after those of :data:`PLATFORMS`."""


def platforms() -> tuple[ModuleType, ...]:
    """The platform modules in use: :data:`PLATFORMS`, then the registered ones."""
    return (*(importlib.import_module(name) for name in PLATFORMS), *_registered)


@cache
def stream_types() -> StreamTypes:
    """All known stream types (built once, and again after a registration changes them)."""
    types = StreamTypes()
    for module in platforms():
        for stream_type in module.STREAM_TYPES:
            types.add(stream_type)
    return types


def item_of(body: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    """The item an event body carries, under the first payload key of the catalog it has
    (``tweet``, ``mention``, ``follower``, ``post``, ``entry``...), with that key."""
    for key in stream_types().payload_keys:
        item = body.get(key)
        if isinstance(item, dict):
            return key, item
    return None


def build_sources(settings: Settings, redis: Redis, keys: Keys) -> list[Source]:
    """One source per platform, built from the settings."""
    return [module.build_source(settings, redis, keys) for module in platforms()]


def register_platform(module: ModuleType | str) -> ModuleType:
    """Add a platform module (or its dotted name) to the catalog; returns the module.

    It must export ``STREAM_TYPES`` and ``build_source``. A type name or alias that is
    already known is refused with a ValueError, and the catalog is left as it was.
    """
    mod = importlib.import_module(module) if isinstance(module, str) else module
    for attribute in ("STREAM_TYPES", "build_source"):
        if not hasattr(mod, attribute):
            raise ValueError(f"platform module {mod.__name__} does not export {attribute}")
    if mod in _registered or mod.__name__ in PLATFORMS:
        raise ValueError(f"platform module {mod.__name__} is registered already")
    _registered.append(mod)
    stream_types.cache_clear()
    try:
        stream_types()
    except ValueError:
        _registered.remove(mod)
        stream_types.cache_clear()
        raise
    return mod


def unregister_platform(module: ModuleType | str) -> None:
    """Take a module added with :func:`register_platform` out of the catalog again."""
    name = module if isinstance(module, str) else module.__name__
    _registered[:] = [m for m in _registered if m.__name__ != name]
    stream_types.cache_clear()


@contextmanager
def platform(module: ModuleType | str) -> Iterator[ModuleType]:
    """The catalog with ``module`` in it, for the length of the block (tests, plug-in trials)."""
    mod = register_platform(module)
    try:
        yield mod
    finally:
        unregister_platform(mod)

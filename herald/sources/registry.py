"""Which source serves which stream type."""

from __future__ import annotations

from collections.abc import Iterable

from herald.errors import ValidationError
from herald.sources.base import Source
from herald.sources.catalog import stream_types


class SourceRegistry:
    def __init__(self, sources: Iterable[Source] = ()) -> None:
        self._by_type: dict[str, Source] = {}
        self._sources: list[Source] = []
        for source in sources:
            self.add(source)

    def add(self, source: Source) -> None:
        self._sources.append(source)
        for stream_type in source.stream_types:
            self._by_type[stream_type] = source

    @property
    def stream_types(self) -> tuple[str, ...]:
        """The served types, then their aliases (``x:tweet`` for ``tweet``)."""
        catalog = stream_types()
        aliases = [
            alias
            for name in self._by_type
            if name in catalog
            for alias in catalog.get(name).aliases
        ]
        return (*self._by_type, *aliases)

    def for_type(self, stream_type: str) -> Source:
        try:
            return self._by_type[stream_type]
        except KeyError:
            known = ", ".join(self._by_type) or "none"
            raise ValidationError(
                f"type: unknown stream type {stream_type!r} (known: {known})"
            ) from None

    async def aclose(self) -> None:
        for source in self._sources:
            await source.aclose()

"""Which source serves which stream type."""

from __future__ import annotations

from collections.abc import Iterable

from herald.errors import ValidationError
from herald.push.base import PushSource
from herald.sources.base import Source
from herald.sources.catalog import stream_types

AnySource = Source | PushSource


class SourceRegistry:
    """Poll sources (:class:`Source`) and push sources (:class:`PushSource`) by type."""

    def __init__(self, sources: Iterable[AnySource] = ()) -> None:
        self._by_type: dict[str, AnySource] = {}
        self._sources: list[AnySource] = []
        for source in sources:
            self.add(source)

    def add(self, source: AnySource) -> None:
        self._sources.append(source)
        for stream_type in source.stream_types:
            self._by_type[stream_type] = source

    def push_sources(self) -> list[PushSource]:
        """The push sources, for the push runtime."""
        return [s for s in self._sources if isinstance(s, PushSource)]

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

    def poll_source(self, stream_type: str) -> Source:
        """The poll source of ``stream_type``; a push type has none (ValidationError)."""
        source = self.for_type(stream_type)
        if isinstance(source, PushSource):
            raise ValidationError(f"type: {stream_type} streams are pushed, not polled")
        return source

    def for_type(self, stream_type: str) -> AnySource:
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

"""The in-memory archive: the twin the contract suite holds the real backends to."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from herald.archive.base import ArchivedEvent, Filters, Hit, Page, Query, Term, page_cursor
from herald.archive.matching import match


def wanted(event: ArchivedEvent, filters: Filters) -> bool:
    f = filters
    return (
        (not f.platforms or event.platform in f.platforms)
        and (not f.types or event.type in f.types)
        and (f.stream_ids is None or event.stream_id in f.stream_ids)
        and (f.since is None or event.ts >= f.since)
        and (f.until is None or event.ts < f.until)
    )


class MemoryArchive:
    name = "memory"

    def __init__(self) -> None:
        self._events: dict[str, ArchivedEvent] = {}

    async def open(self) -> None:
        return None

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        added = 0
        for event in events:
            if event.event_id not in self._events:
                self._events[event.event_id] = event
                added += 1
        return added

    def _ordered(self) -> list[ArchivedEvent]:
        return sorted(self._events.values(), key=lambda e: (e.ts, e.event_id))

    async def search(self, query: Query) -> Page:
        hits: list[Hit] = []
        for event in reversed(self._ordered()):
            if query.cursor is not None and (event.ts, event.event_id) >= query.cursor:
                continue
            if not wanted(event, query.filters):
                continue
            highlight = match(event.text, query.terms) if query.terms else event.text[:200]
            if highlight is None:
                continue
            hits.append(Hit(event, highlight))
            if len(hits) >= query.limit:
                break
        return Page(hits, page_cursor(hits, query.limit))

    async def export(
        self, filters: Filters, *, terms: Sequence[Term] = (), chunk: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        for i, event in enumerate(self._ordered()):
            if wanted(event, filters) and (not terms or match(event.text, terms) is not None):
                yield event
            if i % chunk == chunk - 1:
                await asyncio.sleep(0)

    async def purge(self, before: int) -> int:
        old = [k for k, e in self._events.items() if e.ts < before]
        for key in old:
            del self._events[key]
        return len(old)

    async def count(self) -> int:
        return len(self._events)

    async def close(self) -> None:
        return None

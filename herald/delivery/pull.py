"""Pulling events: a batch after a cursor, waiting briefly when there is none yet.

SSE, ``/ws`` and Socket.IO push events; ``GET /api/events/log`` and MCP's
``x_stream_events`` let a client *pull* them instead, which is what an AI agent or a cron
job can do reliably: ask for everything after the cursor it holds, get a batch and the next
cursor, repeat. Nothing is lost between calls as long as the cursor is still within the
log's retention, and when it is not the answer says so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson

from herald.delivery.subscription import Query
from herald.store.logentry import Entry
from herald.store.logreader import LogReader

POLL_EVERY = 0.25
_SCAN_BATCH = 500
_SCAN_BATCHES = 20  # per call: a filter that matches nothing still returns promptly


@dataclass(frozen=True, slots=True)
class Page:
    """One answer: the matching entries, the next cursor, and whether the read was whole."""

    entries: list[Entry]
    cursor: str
    #: The oldest offset held, when entries after ``since`` had been trimmed (a gap).
    oldest: str | None = None

    def _meta(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "cursor": self.cursor,
            "count": len(self.entries),
            "recovered": self.oldest is None,
            "gap": self.oldest is not None,
        }
        if self.oldest is not None:
            meta["oldest"] = self.oldest
        return meta

    def as_dict(self) -> dict[str, Any]:
        """``{events, cursor, count, recovered, gap, oldest?}`` with parsed events."""
        return {"events": [e.body for e in self.entries], **self._meta()}

    def encode(self) -> bytes:
        """:meth:`as_dict` as JSON, splicing in each event's stored bytes (never re-encoded)."""
        events = b",".join(e.data for e in self.entries)
        return b'{"events":[' + events + b"]," + orjson.dumps(self._meta())[1:]


async def read_after(
    log: LogReader,
    query: Query,
    *,
    gone: Callable[[], Awaitable[bool]] | None = None,
) -> Page:
    """Matching events after ``query.since``, oldest first, at most ``query.limit``.

    When entries after ``since`` were trimmed before this read, the page says so
    (``oldest``: where the read restarted), as the push transports' acknowledgements do.
    The cursor is the offset of the last entry *looked at* (matching or not), so a filtered
    reader never rescans what it skipped. Waits up to ``query.wait`` seconds for the first
    match, polling the log (no connection is held while waiting).
    """
    cursor = query.since
    oldest = None
    if cursor is None:
        cursor = await log.newest_offset()
    else:
        oldest = await log.trimmed_after(cursor)
    deadline = time.monotonic() + query.wait
    while True:
        found, cursor = await _scan(log, query, cursor)
        remaining = deadline - time.monotonic()
        if found or remaining <= 0 or (gone is not None and await gone()):
            return Page(found, cursor, oldest)
        await asyncio.sleep(min(POLL_EVERY, remaining))


async def _scan(log: LogReader, query: Query, cursor: str) -> tuple[list[Entry], str]:
    found: list[Entry] = []
    selector = query.selector
    for _ in range(_SCAN_BATCHES):
        batch = await log.after(cursor, _SCAN_BATCH)
        for entry in batch:
            cursor = entry.offset
            if selector.matches(entry):
                found.append(entry)
                if len(found) >= query.limit:
                    return found, cursor
        if len(batch) < _SCAN_BATCH:
            break
    return found, cursor

"""``GET /api/events/log``: read the global event log after a cursor, waiting briefly if empty.

SSE and WebSocket push events; this route lets a client *pull* them instead, which is what
an AI agent (through MCP) or a cron job can do reliably: ask for everything after the
cursor it holds, get a batch and the next cursor, repeat. Nothing is lost between calls
as long as the cursor is still within the log's retention.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request

from herald.api.responses import JSON
from herald.auth import Authenticator, token_from_headers_and_query
from herald.delivery.subscription import event_types
from herald.errors import HeraldError, ValidationError
from herald.service import Herald
from herald.store.eventlog import EventLog

MAX_LIMIT = 1000
MAX_WAIT = 60.0
POLL_EVERY = 0.25
_SCAN_BATCH = 500
_SCAN_BATCHES = 20  # per call: a filter that matches nothing still returns promptly
_OFFSET = re.compile(r"^\d{1,20}(-\d{1,20})?$")


class Forbidden(HeraldError):
    code = "forbidden"
    status = 403


@dataclass(frozen=True, slots=True)
class EventQuery:
    """What to read. ``since=None`` means "from now on"; ``stream_ids=None`` means all."""

    since: str | None = None
    stream_ids: frozenset[str] | None = None
    types: frozenset[str] | None = None
    limit: int = 100
    wait: float = 0.0

    def matches(self, event: dict[str, Any]) -> bool:
        if self.stream_ids is not None and event.get("streamId") not in self.stream_ids:
            return False
        return self.types is None or event.get("type") in self.types


def event_query(
    *,
    since: str | None = None,
    stream_ids: Iterable[str] | None = None,
    types: Iterable[str] | None = None,
    limit: int | None = None,
    wait: float | None = None,
) -> EventQuery:
    """Validate a request; each failure names the field and its rule."""
    if since is not None and since not in ("", "$") and not _OFFSET.match(since):
        raise ValidationError(f"since: {since!r} is not an offset (like 1712345678901-0)")
    cursor = None if since in (None, "", "$") else since
    ids = frozenset(s for s in (stream_ids or ()) if s) or None
    kinds = event_types([t for t in types or () if t])
    count = 100 if limit is None else limit
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_LIMIT:
        raise ValidationError(f"limit: must be a whole number from 1 to {MAX_LIMIT}")
    seconds = 0.0 if wait is None else float(wait)
    if not 0 <= seconds <= MAX_WAIT:
        raise ValidationError(f"wait: must be from 0 to {MAX_WAIT:g} seconds")
    return EventQuery(cursor, ids, kinds or None, count, seconds)


async def read_after(
    log: EventLog,
    query: EventQuery,
    *,
    gone: Callable[[], Awaitable[bool]] | None = None,
) -> dict[str, Any]:
    """``{events, cursor, recovered, gap}``: matching events after ``query.since``, oldest first.

    When entries after ``since`` were trimmed before this read, the answer says so:
    ``recovered: false``, ``gap: true`` and ``oldest`` (the oldest offset held, where the
    read restarted), as the push transports' acknowledgements do. The cursor is the offset
    of the last entry *looked at* (matching or not), so a filtered reader never rescans what
    it skipped. Waits up to ``query.wait`` seconds for the first match, polling the log (no
    connection is held while waiting).
    """
    cursor = query.since
    oldest = None
    if cursor is None:
        _, newest = await log.bounds()
        cursor = newest or "0-0"
    else:
        oldest = await log.trimmed_after(cursor if "-" in cursor else f"{cursor}-0")
    continuity: dict[str, Any] = {"recovered": oldest is None, "gap": oldest is not None}
    if oldest is not None:
        continuity["oldest"] = oldest
    deadline = time.monotonic() + query.wait
    while True:
        events, cursor = await _scan(log, query, cursor)
        remaining = deadline - time.monotonic()
        if events or remaining <= 0 or (gone is not None and await gone()):
            return {"events": events, "cursor": cursor, "count": len(events), **continuity}
        await asyncio.sleep(min(POLL_EVERY, remaining))


async def _scan(log: EventLog, query: EventQuery, cursor: str) -> tuple[list[dict[str, Any]], str]:
    found: list[dict[str, Any]] = []
    after = cursor if "-" in cursor else f"{cursor}-0"
    for _ in range(_SCAN_BATCHES):
        batch = await log.read(after, count=_SCAN_BATCH)
        for event in batch:
            after = str(event["offset"])
            if query.matches(event):
                found.append(event)
                if len(found) >= query.limit:
                    return found, after
        if len(batch) < _SCAN_BATCH:
            break
    return found, after


def _listed(request: Request, name: str) -> list[str]:
    return [v for item in request.query_params.getlist(name) for v in item.split(",") if v]


def build_router(herald: Herald) -> APIRouter:
    router = APIRouter(tags=["events"])
    auth = Authenticator.from_settings(herald.settings)

    @router.get("/api/events/log")
    async def event_log(
        request: Request,
        since: str | None = None,
        limit: int = 100,
        wait: float = 0,
    ) -> JSON:
        """Events after ``since`` (an offset; omit for "from now"), with the next ``cursor``.

        ``streamIds`` and ``types`` filter (comma-separated or repeated); ``wait`` (seconds,
        at most 60) holds the answer until a first event arrives.
        """
        query = event_query(
            since=since,
            stream_ids=_listed(request, "streamIds"),
            types=_listed(request, "types"),
            limit=limit,
            wait=wait,
        )
        query = _within_token(query, auth, request)
        return JSON(await read_after(herald.log, query, gone=request.is_disconnected))

    return router


def _within_token(query: EventQuery, auth: Authenticator, request: Request) -> EventQuery:
    """A token limited to some streams (a JWT ``streams`` claim) reads only those."""
    if not auth.enabled:
        return query
    principal = auth.authenticate(
        token_from_headers_and_query(request.headers, request.query_params)
    )
    if principal.streams is None:
        return query
    if query.stream_ids is None:
        return EventQuery(query.since, principal.streams, query.types, query.limit, query.wait)
    denied = sorted(query.stream_ids - principal.streams)
    if denied:
        raise Forbidden(f"streamIds: this token may not read stream {denied[0]!r}")
    return query

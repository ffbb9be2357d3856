"""Search and export requests, read once for every surface (REST, MCP) and answered alike.

Parameters arrive as strings (a query string, an MCP tool's arguments): ``q``,
``platform``, ``type``, ``streamId`` (each comma-separated or repeated), ``from``, ``to``
(ISO 8601 or epoch ms), ``limit`` and ``cursor``. A token limited to some streams searches
only those: naming another stream is a 403, naming none means "all of mine".
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from herald.archive.base import (
    MAX_LIMIT,
    Archive,
    ArchivedEvent,
    ArchiveOff,
    Filters,
    Page,
    Query,
    Term,
    decode_cursor,
    parse_terms,
    parse_time,
)
from herald.auth import Principal
from herald.errors import Forbidden, ValidationError
from herald.events import EVENT_TYPES

FORMATS = ("csv", "jsonl")
CSV_COLUMNS = ("offset", "eventId", "type", "platform", "streamId", "detectedAt", "text", "event")
_FORMULA = ("=", "+", "-", "@", "\t", "\r")
_ROWS_PER_CHUNK = 500

Params = Mapping[str, str | Sequence[str] | None]


def _list(params: Params, name: str) -> tuple[str, ...]:
    value = params.get(name)
    raw = [value] if isinstance(value, str) else list(value or [])
    return tuple(dict.fromkeys(p.strip() for item in raw for p in item.split(",") if p.strip()))


def _one(params: Params, name: str) -> str | None:
    value = params.get(name)
    if value is None or isinstance(value, str):
        return value
    return value[-1] if value else None


def need_archive(archive: Archive | None) -> Archive:
    if archive is None:
        raise ArchiveOff(
            "the archive is off (HERALD_ARCHIVE_URL=off, or an external Redis "
            "with no HERALD_ARCHIVE_URL): search and export need one"
        )
    return archive


@dataclass(frozen=True, slots=True)
class Request:
    terms: tuple[Term, ...]
    filters: Filters


def read_request(params: Params, principal: Principal | None) -> Request:
    """The terms and filters of ``params``, within what ``principal`` may see."""
    types = _list(params, "type")
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown:
        raise ValidationError(f"type: unknown event type {unknown[0]!r}")
    streams: tuple[str, ...] | None = _list(params, "streamId") or None
    allowed = principal.streams if principal is not None else None
    if allowed is not None:
        if streams is None:
            streams = tuple(sorted(allowed))
        else:
            for stream_id in streams:
                if stream_id not in allowed:
                    raise Forbidden(f"streamId: this token may not access stream {stream_id!r}")
    since = parse_time("from", _one(params, "from"))
    until = parse_time("to", _one(params, "to"))
    if since is not None and until is not None and until <= since:
        raise ValidationError("to: must be after from")
    filters = Filters(
        platforms=_list(params, "platform"),
        types=types,
        stream_ids=streams,
        since=since,
        until=until,
    )
    return Request(parse_terms(_one(params, "q")), filters)


def read_query(params: Params, principal: Principal | None) -> Query:
    req = read_request(params, principal)
    raw_limit = _one(params, "limit")
    try:
        limit = int(raw_limit) if raw_limit not in (None, "") else 50
    except ValueError:
        raise ValidationError(f"limit: a whole number from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationError(f"limit: a whole number from 1 to {MAX_LIMIT}")
    return Query(req.terms, req.filters, limit, decode_cursor(_one(params, "cursor")))


def page_json(page: Page) -> dict[str, Any]:
    """``{results: [{event, highlight}], count, cursor}``; ``cursor`` is null on the last page."""
    return {
        "results": [{"event": hit.event.event(), "highlight": hit.highlight} for hit in page.hits],
        "count": len(page.hits),
        "cursor": page.cursor,
    }


async def search(
    archive: Archive | None, params: Params, principal: Principal | None
) -> dict[str, Any]:
    query = read_query(params, principal)
    return page_json(await need_archive(archive).search(query))


# --- export ----------------------------------------------------------------------------------
def _safe_cell(value: str) -> str:
    """A spreadsheet must not run a cell as a formula: such text gets a leading quote."""
    return "'" + value if value.startswith(_FORMULA) else value


def _one_line(value: str) -> str:
    """The text column on one line, so every CSV record is one line (the event column
    keeps the text exactly, JSON-escaped)."""
    return value.replace("\r", " ").replace("\n", " ")


def csv_rows(events: Iterable[ArchivedEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for e in events:
        body = e.body.decode()
        detected = orjson.loads(e.body).get("detectedAt", "")
        writer.writerow(
            [
                e.offset,
                e.event_id,
                e.type,
                e.platform,
                e.stream_id,
                detected,
                _safe_cell(_one_line(e.text)),
                body,
            ]
        )
    return out.getvalue()


def csv_header() -> str:
    return ",".join(CSV_COLUMNS) + "\r\n"


async def export_chunks(
    archive: Archive, req: Request, fmt: str, *, chunk: int = 1000
) -> AsyncIterator[bytes]:
    """The export as byte chunks, a few hundred events each: memory stays bounded however
    many events match."""
    if fmt == "csv":
        yield csv_header().encode()
    batch: list[ArchivedEvent] = []
    async for event in archive.export(req.filters, terms=req.terms, chunk=chunk):
        batch.append(event)
        if len(batch) >= _ROWS_PER_CHUNK:
            yield _encode(batch, fmt)
            batch = []
    if batch:
        yield _encode(batch, fmt)


def _encode(batch: list[ArchivedEvent], fmt: str) -> bytes:
    if fmt == "csv":
        return csv_rows(batch).encode()
    return b"".join(e.body + b"\n" for e in batch)


def read_format(value: str | None) -> str:
    fmt = (value or "jsonl").lower()
    if fmt not in FORMATS:
        raise ValidationError("format: csv or jsonl")
    return fmt

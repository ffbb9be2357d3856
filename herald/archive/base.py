"""The archive's contract: what every backend stores, finds and streams back.

The event log is capped, so older events fall off it; the archive keeps every event (until
its retention) where it can be searched and exported. Backends (in memory, SQLite FTS5,
Postgres) sit behind :class:`Archive`, and one contract suite runs over all of them.

Searches page newest first by time (a keyset cursor naming the last hit, stable while
events arrive); exports stream oldest first. Events of the same millisecond come in an
order each backend keeps: by eventId in memory and Postgres, in archive order in SQLite.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson

from herald.errors import HeraldError, ValidationError

MAX_LIMIT = 200
"""The most hits one search page returns."""
MAX_QUERY = 500
"""The longest query string accepted (characters)."""
MAX_TERMS = 16
"""The most terms one query may hold."""
MAX_TEXT = 32_768
"""The most characters of an event's text that are indexed."""
MARK_OPEN, MARK_CLOSE = "<mark>", "</mark>"


class ArchiveOff(HeraldError):
    """Search and export need the archive, and this herald runs without one."""

    code = "archive_off"
    status = 503


@dataclass(frozen=True, slots=True)
class ArchivedEvent:
    """One event as the archive keeps it: the columns it filters on, its indexed text and
    the body exactly as the log held it (with its ``offset``)."""

    event_id: str
    ts: int
    """``detectedAt`` in epoch milliseconds."""
    type: str
    platform: str
    stream_id: str
    offset: str
    text: str
    body: bytes

    def event(self) -> dict[str, Any]:
        decoded: dict[str, Any] = orjson.loads(self.body)
        return decoded


@dataclass(frozen=True, slots=True)
class Term:
    """One search term: a word or a phrase (its words in order), optionally a prefix."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class Filters:
    """What search and export narrow by; ``stream_ids`` None means every stream."""

    platforms: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    stream_ids: tuple[str, ...] | None = None
    since: int | None = None
    """Inclusive lower bound on ``ts`` (epoch ms)."""
    until: int | None = None
    """Exclusive upper bound on ``ts`` (epoch ms)."""


@dataclass(frozen=True, slots=True)
class Query:
    terms: tuple[Term, ...] = ()
    filters: Filters = field(default_factory=Filters)
    limit: int = 50
    cursor: tuple[int, str] | None = None
    """Only hits strictly older than this ``(ts, eventId)`` (the previous page's last)."""


@dataclass(frozen=True, slots=True)
class Hit:
    event: ArchivedEvent
    highlight: str
    """A fragment of the event's text with each match between ``<mark>`` and ``</mark>``."""


@dataclass(frozen=True, slots=True)
class Page:
    hits: list[Hit]
    cursor: str | None
    """Pass it back for the next page; None on the last one."""


@runtime_checkable
class Archive(Protocol):
    """Long-term storage of events, idempotent by eventId."""

    name: str

    async def open(self) -> None:
        """Create what is missing (tables, indexes); safe to call again."""

    async def insert_many(self, events: Sequence[ArchivedEvent]) -> int:
        """Store the events whose eventId is new; the number stored."""

    async def search(self, query: Query) -> Page: ...

    def export(
        self, filters: Filters, *, terms: Sequence[Term] = (), chunk: int = 1000
    ) -> AsyncIterator[ArchivedEvent]:
        """Every matching event (with every term, if any), oldest first, read ``chunk`` at
        a time (bounded memory)."""

    async def purge(self, before: int) -> int:
        """Delete the events with ``ts`` before ``before`` (epoch ms); the number deleted."""

    async def count(self) -> int: ...

    async def close(self) -> None: ...


# --- queries: user text made safe ----------------------------------------------------------
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_PIECE = re.compile(r'"([^"]*)"?|(\S+)')


def words_of(text: str) -> list[str]:
    """The words of ``text`` as every backend tokenises them (lower-cased runs of \\w)."""
    return [w.lower() for w in _WORD.findall(text)]


def parse_terms(q: str | None) -> tuple[Term, ...]:
    """``q`` as terms that are all required: words, ``"quoted phrases"`` and ``prefix*``.

    Nothing the user types reaches a backend's query syntax: every term is reduced to
    plain words, which each backend quotes its own way, so ``"``, ``*``, ``OR``,
    ``NEAR(`` or ``'; DROP`` are searched for as text (or dropped as punctuation).
    """
    if not q:
        return ()
    if len(q) > MAX_QUERY:
        raise ValidationError(f"q: at most {MAX_QUERY} characters")
    terms: list[Term] = []
    for match in _PIECE.finditer(q):
        phrase, bare = match.group(1), match.group(2)
        raw = phrase if phrase is not None else bare
        words = tuple(words_of(raw))
        if not words:
            continue
        prefix = phrase is None and raw.endswith("*") and len(words) == 1
        terms.append(Term(words, prefix))
    if len(terms) > MAX_TERMS:
        raise ValidationError(f"q: at most {MAX_TERMS} terms")
    return tuple(terms)


def encode_cursor(ts: int, event_id: str) -> str:
    raw = orjson.dumps([ts, event_id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> tuple[int, str] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        ts, event_id = orjson.loads(raw)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise ValidationError("cursor: not a cursor this archive returned") from None
    if not isinstance(ts, int) or isinstance(ts, bool) or not isinstance(event_id, str):
        raise ValidationError("cursor: not a cursor this archive returned")
    return ts, event_id


def parse_time(name: str, value: str | None) -> int | None:
    """An ISO 8601 time (a date, or a date and time; UTC unless it says) or epoch
    milliseconds, as epoch milliseconds."""
    if value is None or value == "":
        return None
    text = value.strip()
    if text.isdigit() and len(text) <= 16:
        return int(text)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            f"{name}: an ISO 8601 time (2026-01-31 or 2026-01-31T12:00:00Z) or epoch ms"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def page_cursor(hits: Sequence[Hit], limit: int) -> str | None:
    if len(hits) < limit or not hits:
        return None
    last = hits[-1].event
    return encode_cursor(last.ts, last.event_id)

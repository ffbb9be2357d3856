"""From a log entry to an :class:`ArchivedEvent`: the columns, and the text to index.

Which text an event carries is read from the catalog, not from its type's name: the item
under the first payload key the catalog knows (``tweet``, ``post``, ``entry``, ``dm``...)
comes first, then every other text the body holds (an alert's labels, an error's message,
a command's data). Identifiers, URLs and times are left out: they are columns or noise.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import orjson

from herald.archive.base import MAX_TEXT, ArchivedEvent, parse_time
from herald.errors import ValidationError
from herald.events import with_offset
from herald.sources.catalog import item_of

# Body keys that are columns (or envelope) rather than text.
_ENVELOPE = frozenset(
    {"type", "eventId", "offset", "streamId", "platform", "detectedAt", "priority", "target"}
)
# Keys whose values are identifiers, links or times wherever they appear.
_NOT_TEXT = frozenset(
    {
        "id",
        "url",
        "link",
        "timestamp",
        "published",
        "time",
        "startsAt",
        "endsAt",
        "fingerprint",
        "correlationId",
        "conversationId",
        "lang",
        "cid",
        "uri",
        "did",
    }
)
_MAX_DEPTH = 6


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(value, str):
        if value and not value.startswith(("http://", "https://")):
            yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(key, str) and (key in _NOT_TEXT or key.endswith(("Id", "At", "Url"))):
                continue
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def searchable_text(body: Mapping[str, Any]) -> str:
    """The text of an event that full-text search looks through."""
    parts: list[str] = []
    found = item_of(dict(body))
    key = found[0] if found else None
    if found is not None:
        parts.extend(_strings(found[1]))
    for name, value in body.items():
        if name in _ENVELOPE or name == key:
            continue
        parts.extend(_strings({name: value}))
    if body.get("target") and body.get("target") != body.get("username"):
        parts.append(str(body["target"]))
    text = " ".join(parts).replace("\x00", " ")
    return text[:MAX_TEXT]


def record_of(body: Mapping[str, Any], offset: str = "", raw: bytes | None = None) -> ArchivedEvent:
    """The archived form of one event body (``offset`` is its log entry id)."""
    event_id = body.get("eventId")
    if not isinstance(event_id, str) or not event_id:
        raise ValidationError("eventId: every archived event needs one")
    spliced = raw is not None and bool(offset) and "offset" not in body
    if offset and body.get("offset") != offset:
        body = {"offset": offset, **body}
    detected = body.get("detectedAt")
    try:
        ts = parse_time("detectedAt", detected) if isinstance(detected, str) else None
    except ValidationError:
        ts = None
    if ts is None:
        ts = _offset_ms(offset)
    if spliced and raw is not None:
        encoded = with_offset(raw, offset)  # the log's bytes as they are, offset first
    elif raw is not None and not offset:
        encoded = raw
    else:
        encoded = orjson.dumps(body)
    return ArchivedEvent(
        event_id=event_id,
        ts=ts,
        type=str(body.get("type") or ""),
        platform=str(body.get("platform") or ""),
        stream_id=str(body.get("streamId") or ""),
        offset=str(body.get("offset") or offset or ""),
        text=searchable_text(body),
        body=encoded,
    )


def record_of_entry(offset: str, data: bytes) -> ArchivedEvent | None:
    """The archived form of a raw log entry body; None when it is not an event."""
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("eventId"), str):
        return None
    return record_of(body, offset, data)


def _offset_ms(offset: str) -> int:
    head = offset.split("-", 1)[0]
    return int(head) if head.isdigit() else 0

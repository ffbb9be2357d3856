"""One event as read from the global log, decoded once and shared by every recipient.

:class:`~herald.store.logreader.LogReader` builds an :class:`Entry` per log entry; transports
cache their own wire form of it in :attr:`Entry.cache` so that an event is encoded once per
transport, never per client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from herald.events import with_offset

OffsetKey = tuple[int, int]


def offset_key(offset: str) -> OffsetKey:
    """Order offsets numerically (``"10-0"`` sorts after ``"9-5"``); ``ms`` alone means ``ms-0``.

    Called for every entry read, so it splits instead of matching a pattern. Digits are
    ASCII only: an offset is a Redis stream id.
    """
    ms, dash, seq = offset.partition("-")
    if _digits(ms) and (not dash or _digits(seq)):
        return int(ms), int(seq) if dash else 0
    raise ValueError(f"not a log offset: {offset!r}")


def _digits(part: str) -> bool:
    return 0 < len(part) <= 20 and part.isascii() and part.isdigit()


def is_offset(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        offset_key(value)
    except ValueError:
        return False
    return True


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return b"" if value is None else str(value).encode()


def _field(fields: dict[Any, Any], raw: bytes, name: str) -> bytes:
    value = fields.get(raw)
    if value is None:
        value = fields.get(name)
    return _bytes(value)


def entries(items: Any) -> list[Entry]:
    """Entries from the item list of one stream in an ``XRANGE`` or ``XREAD`` reply."""
    return [Entry.from_fields(eid, fields) for eid, fields in items or ()]


def format_offset(key: OffsetKey) -> str:
    return f"{key[0]}-{key[1]}"


@dataclass(slots=True, eq=False)
class Entry:
    """A log entry: offset, type, stream id, and the wire body with ``offset`` spliced in."""

    offset: str
    key: OffsetKey
    type: str
    stream_id: str
    data: bytes
    text: str
    cache: dict[str, Any] = field(default_factory=dict)
    _parsed: dict[str, Any] | None = None

    @classmethod
    def from_fields(cls, entry_id: Any, fields: Any) -> Entry:
        """Build from a raw ``XRANGE``/``XREAD`` item (bytes keys and values).

        Runs for every entry the node reads, so it does the least it can: no parsing."""
        offset = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        f: dict[Any, Any] = fields or {}
        data = with_offset(_field(f, b"e", "e") or b"{}", offset)
        kind, stream = _field(f, b"t", "t").decode(), _field(f, b"s", "s").decode()
        return cls(offset, offset_key(offset), kind, stream, data, data.decode())

    @property
    def body(self) -> dict[str, Any]:
        """The parsed body, parsed at most once (filters and external emitters need it)."""
        if self._parsed is None:
            parsed = orjson.loads(self.data)
            self._parsed = parsed if isinstance(parsed, dict) else {}
        return self._parsed

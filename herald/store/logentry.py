"""One event as read from the global log, decoded once and shared by every recipient.

:class:`~herald.store.logreader.LogReader` builds an :class:`Entry` per log entry; transports
cache their own wire form of it in :attr:`Entry.cache` so that an event is encoded once per
transport, never per client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from herald.events import with_offset

OffsetKey = tuple[int, int]

_OFFSET = re.compile(r"^(\d{1,20})(?:-(\d{1,20}))?$")


def offset_key(offset: str) -> OffsetKey:
    """Order offsets numerically (``"10-0"`` sorts after ``"9-5"``); ``ms`` alone means ``ms-0``."""
    m = _OFFSET.match(offset)
    if m is None:
        raise ValueError(f"not a log offset: {offset!r}")
    return int(m.group(1)), int(m.group(2) or 0)


def is_offset(value: object) -> bool:
    return isinstance(value, str) and _OFFSET.match(value) is not None


def _bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return b"" if value is None else str(value).encode()


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
        """Build from a raw ``XRANGE``/``XREAD`` item (bytes keys and values)."""
        offset = entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)
        f: dict[Any, Any] = fields or {}
        data = with_offset(_bytes(f.get(b"e", f.get("e"))) or b"{}", offset)
        return cls(
            offset=offset,
            key=offset_key(offset),
            type=_bytes(f.get(b"t", f.get("t"))).decode(),
            stream_id=_bytes(f.get(b"s", f.get("s"))).decode(),
            data=data,
            text=data.decode(),
        )

    @property
    def body(self) -> dict[str, Any]:
        """The parsed body, parsed at most once (filters and external emitters need it)."""
        if self._parsed is None:
            parsed = orjson.loads(self.data)
            self._parsed = parsed if isinstance(parsed, dict) else {}
        return self._parsed
